#!/usr/bin/env python3
"""Drives meshgate's dashboard in Debian's headless Chromium (Selenium + chromium-driver) and prints one
JSON line with what a user would have seen at each step, for DashboardBrowserTests.swift to assert on.

    PY dashboard_browser.py --admin http://127.0.0.1:PORT --token TOKEN --proxy http://127.0.0.1:PORT
                            --ai http://127.0.0.1:PORT --ai-token TOKEN --model MODEL --team TEAM --shots DIR

Steps (each records its result under its name; a step that throws records {"error": ...} and the
script goes on, so one broken page does not hide the others):
  wrong_login   a wrong token: the login page again with its error text
  login         the right token: the Live page
  live          a Shadow MCP request through the explicit proxy (curl), then how long until its row
                appears on the Live page (`latency_ms`), and the row's action; a click shows its record
  filter        the action filter set to `allow`: the blocked row is gone
  inventory     the server's row on the MCP inventory page
  spend         the team's `used` before and after one chat completion on the `ai` listener
  rules_test    the Policy page's form run on the same MCP request: the decision JSON
  health        the Health page's checks
Screenshots of each page go to --shots.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

MCP_URL = "http://mcp.shadow-dashboard.example/mcp"
MCP_BODY = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_secrets","arguments":{}}}'


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--no-proxy-server", "--disable-gpu"):
        options.add_argument(flag)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def shadow_mcp_request(proxy):
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy, "-H",
                           "Content-Type: application/json", "-H", "MCP-Protocol-Version: 2025-06-18",
                           "--data", MCP_BODY, MCP_URL], capture_output=True, text=True, timeout=20).stdout


def main():
    parser = argparse.ArgumentParser()
    for name in ("admin", "token", "proxy", "ai", "ai-token", "model", "team", "shots"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    result = {}
    driver = browser()
    wait = WebDriverWait(driver, 10)

    def shot(name):
        driver.save_screenshot(os.path.join(args.shots, name + ".png"))

    def step(name, action):
        try:
            result[name] = action()
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            result[name] = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc(limit=3)}
            try:
                shot(name + "-failed")
            except Exception:  # noqa: BLE001
                pass

    def sign_in(token):
        driver.get(args.admin + "/")
        field = wait.until(lambda d: d.find_element(By.ID, "token"))
        field.clear()
        field.send_keys(token)
        driver.find_element(By.ID, "sign-in").click()

    def wrong_login():
        sign_in("not-the-token")
        error = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".error"))
        shot("login-refused")
        return {"error_text": error.text, "still_login": bool(driver.find_elements(By.ID, "token"))}

    def login():
        sign_in(args.token)
        wait.until(lambda d: d.find_element(By.ID, "live-table"))
        wait.until(lambda d: d.find_element(By.ID, "live-status").text == "live")
        cookie = driver.get_cookie("meshgate_session") or {}
        return {"live_page": True, "cookie_http_only": cookie.get("httpOnly"), "cookie_same_site": cookie.get("sameSite"),
                "script_sees_cookie": "meshgate_session" in driver.execute_script("return document.cookie")}

    def live():
        status = shadow_mcp_request(args.proxy)
        sent = time.monotonic()
        row = None
        while time.monotonic() - sent < 5:
            rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#live-table tbody tr") if "shadow-dashboard" in r.text]
            if rows:
                row = rows[0]
                break
            time.sleep(0.02)
        latency = (time.monotonic() - sent) * 1000
        if row is None:
            shot("live")
            return {"status": status, "appeared": False}
        text = row.text
        row.click()
        detail = wait.until(lambda d: d.find_element(By.ID, "detail-json").text or None)
        shot("live")
        return {"status": status, "appeared": True, "latency_ms": round(latency), "row": text, "detail": json.loads(detail)}

    def filter_allow():
        Select(driver.find_element(By.CSS_SELECTOR, "#live-filters select[name=action]")).select_by_visible_text("allow")
        time.sleep(1.0)
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#live-table tbody tr")]
        shot("live-filtered")
        Select(driver.find_element(By.CSS_SELECTOR, "#live-filters select[name=action]")).select_by_visible_text("any action")
        return {"rows_with_shadow": sum("shadow-dashboard" in r for r in rows), "rows": len(rows)}

    # Pages other than Live redraw every 3 s, so an element found one moment may be replaced the
    # next: everything read from them is read in one script call.
    def rows(css, attribute):
        return driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(r => ({key: r.getAttribute(arguments[1]),"
            " cells: [...r.querySelectorAll('td')].map(c => c.innerText)}))", css, attribute)

    def inventory():
        driver.get(args.admin + "/#inventory")
        row = wait.until(lambda d: next((r for r in rows("#inventory-table tbody tr", "data-url")
                                         if r["key"] and "shadow-dashboard" in r["key"]), None))
        shot("inventory")
        return {"url": row["key"], "cells": row["cells"]}

    def team_used():
        row = wait.until(lambda d: next((r for r in rows("#spend-teams tbody tr", "data-team") if r["key"] == args.team), None))
        return int(row["cells"][1])

    def spend():
        driver.get(args.admin + "/#spend")
        before = team_used()
        request = urllib.request.Request(args.ai + "/v1/chat/completions", method="POST",
                                         data=json.dumps({"model": args.model, "max_tokens": 10,
                                                          "messages": [{"role": "user", "content": "hello dashboard"}]}).encode(),
                                         headers={"Authorization": "Bearer " + args.ai_token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            usage = json.loads(response.read()).get("usage", {})
        after = before
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and after == before:
            time.sleep(0.2)
            after = team_used()
        time.sleep(0.5)
        chart_bars = driver.execute_script("return document.querySelectorAll('#spend-chart rect.day').length")
        models = [" ".join(r["cells"]) for r in rows("#spend-models tbody tr", "data-x")]
        shot("spend")
        return {"before": before, "after": after, "usage": usage, "chart_bars": chart_bars, "models": models}

    def rules_test():
        driver.get(args.admin + "/#policy")
        form = wait.until(lambda d: d.find_element(By.ID, "rules-test"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#policy-rulesets tr[data-rule]"))
        form.find_element(By.NAME, "url").send_keys(MCP_URL)
        body = form.find_element(By.NAME, "body")
        body.clear()
        body.send_keys(MCP_BODY)
        driver.find_element(By.ID, "rules-test-run").click()
        out = wait.until(lambda d: d.find_element(By.ID, "rules-test-result").text or None)
        hits = {r["key"]: r["cells"][2] for r in rows("#policy-rulesets tr[data-rule]", "data-rule")}
        shot("policy")
        return {"decision": json.loads(out), "hits": hits}

    def health():
        driver.get(args.admin + "/#health")
        wait.until(lambda d: rows("#health-checks tr[data-check]", "data-check"))
        checks = {r["key"]: " ".join(r["cells"]) for r in rows("#health-checks tr[data-check]", "data-check")}
        listeners = [" ".join(r["cells"]) for r in rows("#health-listeners tbody tr", "data-x")]
        shot("health")
        return {"checks": checks, "listeners": listeners}

    try:
        step("wrong_login", wrong_login)
        step("login", login)
        step("live", live)
        step("filter", filter_allow)
        step("inventory", inventory)
        step("spend", spend)
        step("rules_test", rules_test)
        step("health", health)
        # The refused login answers 401 on purpose; anything else the console reports is a defect.
        result["console_errors"] = [e["message"] for e in driver.get_log("browser")
                                    if e.get("level") == "SEVERE" and "/login - Failed to load resource" not in e["message"]]
    finally:
        driver.quit()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
