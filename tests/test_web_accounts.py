"""Accounts in the web client, in Chromium: a guest races and signs up, logs in on a new
device with its scores, changes its password (the old device must log in again), logs
out; a guest keeps playing and can't take the account's name; a guest coming back to a
name an account took meanwhile is told what it is called now."""

from __future__ import annotations

import re

from .test_web_client import (PASSAGE, browser, expect, goto_section, say_hello, type_keys,  # noqa: F401
                              wait_racing, web)

PASSWORD = "open sesame 42"


async def log_in(page, name: str, password: str) -> None:
    await page.fill("#login-name-input", name)
    await page.fill("#login-password-input", password)
    await page.click("#login-btn")


async def races_shown(page) -> str:
    row = page.locator("#stats-summary div", has_text="Races")
    return (await row.locator("dd").inner_text()).strip()


async def test_sign_up_log_in_elsewhere_change_password_and_log_out(browser):
    laptop = await browser.page("Ann")
    await expect(laptop.locator("#account-name")).to_be_hidden()
    await laptop.click("#practice-btn")
    await wait_racing(laptop)
    await type_keys(laptop, PASSAGE)
    await expect(laptop.locator("#results")).to_be_visible()
    await laptop.click("#leave-btn")

    # Sign up: visible Name and Password fields, and the password rule said before
    # anyone trips on it; the name at the top says "account".
    await goto_section(laptop, "account")
    await expect(laptop.locator("#register-form")).to_be_visible()
    await expect(laptop.locator("#register-password-rule")).to_have_text("At least 8 characters.")
    await expect(laptop.locator("#register-name-input")).to_have_value("Ann")
    await laptop.fill("#register-password-input", PASSWORD)
    await laptop.click("#register-btn")
    await expect(laptop.locator("#account-name")).to_have_text("account: Ann")
    await expect(laptop.locator("#account-info")).to_be_visible()
    await expect(laptop.locator("#register-form")).to_be_hidden()
    await expect(laptop.locator("#change-name-btn")).to_be_hidden()

    # A new device: no name, no token; a wrong password first, then the right one.
    phone = await browser.page()
    await log_in(phone, "ANN", "not the password")
    # Said in words beside the form; the code only in its title.
    await expect(phone.locator("#login-msg")).to_have_text("That name and password don't match an account.")
    await expect(phone.locator("#login-msg")).to_have_attribute("data-code", "bad_credentials")
    await expect(phone.locator("#error-banner")).to_be_hidden()
    await log_in(phone, "ANN", PASSWORD)
    await expect(phone.locator("#me")).to_have_text("Ann")
    await expect(phone.locator("#account-name")).to_have_text("account: Ann")
    await expect(phone.locator("#home-view")).to_be_visible()
    await expect(phone.locator("#stats-summary")).to_contain_text("Races")
    assert await races_shown(phone) == "1"                   # the race before signing up
    assert await phone.input_value("#login-password-input") == ""

    # Change the password on the phone: the laptop's token no longer works.
    await goto_section(phone, "account")
    await phone.fill("#current-password-input", PASSWORD)
    await phone.fill("#new-password-input", PASSWORD + "!")
    await phone.click("#change-password-btn")
    await expect(phone.locator("#change-password-msg")).to_contain_text("Password changed")
    await laptop.reload()
    await expect(laptop.locator("#name-view")).to_be_visible()
    await expect(laptop.locator("#name-msg")).to_contain_text("log in")
    await expect(laptop.locator("#login-name-input")).to_have_value("Ann")
    await log_in(laptop, "Ann", PASSWORD + "!")
    await expect(laptop.locator("#account-name")).to_have_text("account: Ann")

    # Log out: the device forgets the account; a reload starts at the name view.
    await phone.click("#logout-btn")
    await expect(phone.locator("#name-view")).to_be_visible()
    await expect(phone.locator("#account-name")).to_be_hidden()
    await phone.reload()
    await expect(phone.locator("#name-view")).to_be_visible()
    await expect(phone.locator("#status")).to_have_text("offline")
    assert await phone.evaluate("localStorage.getItem('typerace.token')") is None


async def test_a_guest_keeps_playing_and_cannot_take_an_accounts_name(browser):
    ann = await browser.page("Ann")
    await goto_section(ann, "account")
    await ann.fill("#register-password-input", PASSWORD)
    await ann.click("#register-btn")
    await expect(ann.locator("#account-name")).to_have_text("account: Ann")

    guest = await browser.page()
    await guest.fill("#name-input", "ann")
    await guest.click("#hello-btn")
    # Beside the form it is about, in words; no banner.
    await expect(guest.locator("#name-msg")).to_have_attribute("data-code", "name_taken")
    await expect(guest.locator("#name-msg")).to_contain_text("log in with its password")
    await expect(guest.locator("#error-banner")).to_be_hidden()
    await expect(guest.locator("#login-name-input")).to_have_value("ann")
    await say_hello(guest, "Bob")
    await expect(guest.locator("#account-name")).to_be_hidden()
    await expect(guest.locator("#login-link-btn")).to_be_visible()
    await expect(guest.locator("#name-msg")).to_be_hidden()       # cleared by the success
    await goto_section(guest, "account")
    # A too-short password is refused before it is sent; a taken name by the server.
    await guest.fill("#register-name-input", "ANN")
    await guest.fill("#register-password-input", "short")
    await guest.click("#register-btn")
    await expect(guest.locator("#register-msg")).to_have_text("")
    await guest.fill("#register-password-input", PASSWORD)
    await guest.click("#register-btn")
    await expect(guest.locator("#register-msg")).to_have_attribute("data-code", "name_taken")
    # A change of view clears it. The guest races as before.
    await goto_section(guest, "race")
    await expect(guest.locator("#register-msg")).to_be_hidden()
    await guest.click("#practice-btn")
    await wait_racing(guest)
    await type_keys(guest, PASSAGE)
    await expect(guest.locator("#results")).to_be_visible()


async def test_a_banned_player_is_told_and_the_page_stops_reconnecting(browser, web):
    page = await browser.page("Eve")
    player_id = (await page.evaluate("localStorage.getItem('typerace.token')")).split(".")[1]
    # A guest is kept (and can be banned) once it has something kept: here a text.
    await web.store.submit_text({"title": "Spam", "body": "Eve wrote these words to be "
                                 "banned for them."}, player_id, "Eve", 1)
    assert await web.store.set_banned(player_id, True) == "Eve"
    await page.reload()
    await expect(page.locator("#error-banner")).to_have_attribute("data-code", "banned")
    await expect(page.locator("#name-view")).to_be_visible()
    await expect(page.locator("#status")).to_have_text("offline")      # no retry loop


async def test_a_guest_whose_name_an_account_took_is_told_its_new_name_on_coming_back(browser):
    carol = await browser.page("Carol")
    url = carol.url
    await carol.goto("about:blank")                    # Carol leaves; her device keeps her token
    taker = await browser.page("Someone")
    await goto_section(taker, "account")
    await taker.fill("#register-name-input", "Carol")
    await taker.fill("#register-password-input", PASSWORD)
    await taker.click("#register-btn")
    await expect(taker.locator("#account-name")).to_have_text("account: Carol")

    await carol.goto(url)                              # back, with the same token
    await expect(carol.locator("#me")).to_have_text(re.compile(r"^Carol~\w{4}$"))
    given = await carol.locator("#me").inner_text()
    await expect(carol.locator("#home-msg")).to_have_text(
        f"\u201cCarol\u201d belongs to an account now, so you race as {given}. "
        "If the account is yours, log in with its password.")
    await expect(carol.locator("#error-banner")).to_be_hidden()
    # Told once: the device remembers the new name, so the next visit is not renamed.
    await carol.reload()
    await expect(carol.locator("#me")).to_have_text(given)
    await expect(carol.locator("#home-msg")).to_have_text("")
