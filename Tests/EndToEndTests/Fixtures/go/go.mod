module meshgate.test/goclient

go 1.19
