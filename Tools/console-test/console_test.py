#!/usr/bin/env python3
"""Drives the `atlas serve` console in headless Chromium (Selenium + Debian's chromedriver).

Builds a store with the real `atlas` binary, starts `atlas serve` on a free loopback port,
signs in with a token, opens a tenant, syncs an export that lacks one item, finds that item
on the missing page, opens its history, and follows the live tail. Asserts on page content
and accessibility (labels, landmarks), saves screenshots, and exits 0 only if all held.

    python3 Tools/console-test/console_test.py --atlas .build/debug/atlas \
        --screenshots .build/console-screenshots

Exit codes: 0 passed, 1 an assertion failed, 3 chromium, chromedriver or selenium is missing.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SELECTION = '{"policy_types":["deviceConfiguration"]}'


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok: " + message)


def find_browser():
    missing = []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium:
        missing.append("chromium (apt-get install chromium)")
    if not driver:
        missing.append("chromedriver (apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium for %s (python3 -m pip install selenium)" % sys.executable)
    if missing:
        print("MISSING: " + "; ".join(missing), file=sys.stderr)
        sys.exit(3)
    return chromium, driver


def export(path, ids):
    with open(path, "w") as f:
        for i in ids:
            f.write(json.dumps({"policy_type": "deviceConfiguration", "item": {
                "id": i, "displayName": "Policy " + i, "@odata.type": "#microsoft.graph.windows10GeneralConfiguration"}}) + "\n")
        f.write(json.dumps({"policy_type": "deviceConfiguration", "enumerated": {"count": len(ids)}}) + "\n")
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--atlas", required=True, help="the built atlas binary")
    parser.add_argument("--screenshots", required=True, help="directory for the screenshots")
    args = parser.parse_args()
    chromium, driver_path = find_browser()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    os.makedirs(args.screenshots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="atlas-console-")
    store = os.path.join(work, "store")

    def atlas(*a):
        r = subprocess.run([args.atlas] + list(a) + ["--store", store], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail("atlas %s exited %d: %s" % (" ".join(a), r.returncode, r.stderr))
        return r.stdout

    def sync(tenant, ids, n):
        atlas("sync", "--tenant", tenant, "--selection", SELECTION, "--from-file", export(os.path.join(work, "e%d.ndjson" % n), ids))

    sync("contoso.com", ["a1", "a2", "a3"], 1)
    sync("fabrikam.com", ["b1"], 2)
    token = atlas("token", "create", "--name", "browser-test").strip()

    server = subprocess.Popen([args.atlas, "serve", "--store", store, "--port", "0", "--heartbeat-seconds", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    browser = None
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            fail("atlas serve did not start: %r %s" % (line, server.stderr.read() if server.poll() is not None else ""))
        base = line[len("listening on "):]

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(driver_path), options=options)
        wait = WebDriverWait(browser, 15)

        def shot(name):
            path = os.path.join(args.screenshots, name + ".png")
            browser.save_screenshot(path)
            print("screenshot: " + path)

        def text():
            return browser.find_element(By.TAG_NAME, "body").text

        # Sign in.
        browser.get(base + "/console")
        check(browser.current_url.endswith("/console/sign-in"), "an anonymous visitor is sent to the sign-in page")
        label = browser.find_element(By.CSS_SELECTOR, "label[for=token]")
        check("Access token" in label.text, "the token field has a label")
        shot("01-sign-in")
        browser.find_element(By.ID, "token").send_keys("atlas_not-a-real-token")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        check("not valid" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text, "a wrong token is refused with an alert")
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Tenants"))
        check(browser.find_elements(By.TAG_NAME, "main") and browser.find_elements(By.CSS_SELECTOR, "nav[aria-label=Main]"),
              "the page has main and navigation landmarks")
        check("contoso.com" in text() and "fabrikam.com" in text(), "the overview lists both tenants")
        check("browser-test" in text(), "the overview names the signed-in token")
        cookies = {c["name"]: c for c in browser.get_cookies()}
        session = cookies.get("atlas_session")
        check(session is not None and session.get("httpOnly") and session.get("sameSite") == "Strict",
              "the session cookie is HttpOnly and SameSite=Strict")
        shot("02-tenants")

        # Open a tenant.
        browser.find_element(By.LINK_TEXT, "contoso.com").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Inventory of contoso.com"))
        rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
        check(len(rows) == 3, "the inventory shows the tenant's 3 items (%d)" % len(rows))
        check(browser.find_element(By.CSS_SELECTOR, "label[for=q]") is not None, "the text filter has a label")
        browser.find_element(By.ID, "q").send_keys("a2")
        browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "main table tbody tr")) == 1)
        check("Policy a2" in text() and "Policy a1" not in text(), "the text filter keeps only a2")
        shot("03-inventory-filtered")

        # Nothing is missing yet.
        browser.find_element(By.LINK_TEXT, "Missing").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Missing items"))
        check("Nothing is missing." in text(), "before the second sync nothing is missing")

        # A sync whose export lacks a3 (the real CLI, while the server runs).
        sync("contoso.com", ["a1", "a2"], 3)
        browser.refresh()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "Missing (1)"))
        check("Policy a3" in text(), "after the sync, a3 appears as missing")
        check("Confidence is high only when" in text(), "the confidence rule is spelled out")
        check(browser.find_element(By.CSS_SELECTOR, "label[for=selection_hash]") is not None, "the selection picker has a label")
        shot("04-missing")

        # Its history.
        browser.find_element(By.LINK_TEXT, "Policy a3").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "History of Policy a3"))
        strip = browser.find_element(By.CSS_SELECTOR, "ol.strip")
        cells = strip.find_elements(By.TAG_NAME, "li")
        check(len(cells) == 2, "the history strip has one cell per run (%d)" % len(cells))
        check("first seen" in cells[0].text and "disappeared" in cells[1].text, "the strip reads first seen, then disappeared")
        check("s-absent" in cells[1].get_attribute("class"), "the disappearance is drawn as absent")
        shot("05-history")

        # Runs and changes.
        browser.find_element(By.LINK_TEXT, "Runs").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Runs of contoso.com"))
        check(len(browser.find_elements(By.CSS_SELECTOR, ".badge-success")) == 2, "the runs timeline shows two successful runs")
        shot("06-runs")
        browser.find_element(By.LINK_TEXT, "Changes").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "0 added, 1 removed, 0 changed"))
        shot("07-changes")

        # Keyboard: the skip link is the first focusable element.
        from selenium.webdriver.common.keys import Keys
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        check(browser.switch_to.active_element.text == "Skip to content", "Tab first reaches the skip link")

        # Live tail: a sync of fabrikam.com appears without a reload.
        browser.get(base + "/console/tail")
        wait.until(EC.text_to_be_present_in_element((By.ID, "tail-status"), "Connected"))
        sync("fabrikam.com", ["b1", "b2"], 4)
        wait.until(EC.text_to_be_present_in_element((By.ID, "tail"), "inventory.sync_run_finished"))
        check("fabrikam.com" in browser.find_element(By.ID, "tail").text, "the live tail shows the new run's events")
        shot("08-live-tail")

        # Sign out.
        browser.get(base + "/console")
        browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
        wait.until(lambda b: b.current_url.endswith("/console/sign-in"))
        browser.get(base + "/console")
        check(browser.current_url.endswith("/console/sign-in"), "after signing out the console asks to sign in again")
        print("PASS")
    finally:
        if browser is not None:
            browser.quit()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            fail("atlas serve did not exit within 15 s of SIGTERM")
        shutil.rmtree(work, ignore_errors=True)
        if code != 0:
            fail("atlas serve exited %d on SIGTERM" % code)


if __name__ == "__main__":
    main()
