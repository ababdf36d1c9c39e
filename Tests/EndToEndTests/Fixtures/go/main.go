// A Go HTTPS client for meshgate's end-to-end tests: Go's crypto/tls and net/http, as gh, Terraform,
// kubectl, Docker and the Go MCP SDK use them. Standard library only, so it builds offline.
//
// usage: goclient -url URL -cacert PEM [-sni-from-url-host] [-n N]
//
// The proxy comes from HTTPS_PROXY. -sni-from-url-host sets tls.Config.ServerName to the URL's host
// with its port (as hey and other tools do: ServerName: req.Host); Go sends that name verbatim, so the
// chain is then checked by hand against the host without the port. Prints "STATUS BODY" for each of
// the N requests (one connection, kept alive) and exits 1 on the first error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

func main() {
	target := flag.String("url", "", "the URL to GET")
	caFile := flag.String("cacert", "", "PEM file of the CA to trust (meshgate's)")
	sniFromURLHost := flag.Bool("sni-from-url-host", false, "send the URL's host:port as the SNI")
	count := flag.Int("n", 1, "how many requests")
	flag.Parse()

	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fail(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fail(errors.New("no certificate in " + *caFile))
	}
	u, err := url.Parse(*target)
	if err != nil {
		fail(err)
	}
	config := &tls.Config{RootCAs: roots}
	if *sniFromURLHost {
		config.ServerName = u.Host
		config.InsecureSkipVerify = true
		config.VerifyConnection = func(state tls.ConnectionState) error {
			intermediates := x509.NewCertPool()
			for _, c := range state.PeerCertificates[1:] {
				intermediates.AddCert(c)
			}
			_, err := state.PeerCertificates[0].Verify(x509.VerifyOptions{
				DNSName: u.Hostname(), Roots: roots, Intermediates: intermediates,
			})
			return err
		}
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: config,
	}}
	for i := 0; i < *count; i++ {
		response, err := client.Get(*target)
		if err != nil {
			fail(err)
		}
		body, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			fail(err)
		}
		fmt.Printf("%d %s", response.StatusCode, body)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
