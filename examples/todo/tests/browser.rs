//! People using the todo list in real browsers (headless Chromium): add items, toggle one,
//! delete one, and find the list as it was after the server restarts; two browsers (two
//! profiles, two sessions) each with a list of its own; hostile titles shown as text.
//! Leaves screenshots in target/test-artifacts/todo-*.png.

use nixweb_testkit::browser::fantoccini::{Client, Locator};
use nixweb_testkit::browser::{
    injection_took_effect, loaded_resources, save_screenshot, Driver, INJECTIONS,
};
use nixweb_testkit::TestServer;
use std::time::Duration;

/// The server, with its database and session secret in `dir` (the database path given).
fn start(db: &std::path::Path) -> TestServer {
    let secret = db.with_file_name("session.key");
    let db = format!("sqlite:{}", db.display());
    let secret = format!("file:{}", secret.display());
    TestServer::start(
        example_todo::app_dir(),
        &["--db", &db, "--session-secret", &secret],
    )
}

/// The titles in the list, each with whether it is done, read in one go (HTMX may swap
/// the list at any moment).
async fn items(browser: &Client) -> Vec<(String, bool)> {
    let rows = browser
        .execute(
            "return [...document.querySelectorAll('#list li')]
                .map(li => [li.querySelector('.title').textContent, li.classList.contains('done')]);",
            vec![],
        )
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_owned(),
                row[1].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Waits (a bounded while) until the list shows `expected`.
async fn wait_for(browser: &Client, expected: &[(&str, bool)]) {
    let expected: Vec<(String, bool)> = expected.iter().map(|(t, d)| (t.to_string(), *d)).collect();
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = items(browser).await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the list shows {seen:?}, not {expected:?}");
}

async fn add(browser: &Client, title: &str) {
    let input = browser
        .find(Locator::Css("input[name=title]"))
        .await
        .unwrap();
    input.send_keys(title).await.unwrap();
    browser
        .find(Locator::Css("form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[test]
fn a_person_adds_toggles_and_deletes_and_the_list_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("todo.db");
    let driver = Driver::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let server = start(&db);
    let url = server.url("/");
    runtime.block_on(async {
        let browser = driver.browser().await;
        browser.goto(&url).await.unwrap();
        wait_for(&browser, &[]).await;

        add(&browser, "Buy milk").await;
        wait_for(&browser, &[("Buy milk", false)]).await;
        add(&browser, "Write <b>tests</b>").await;
        wait_for(
            &browser,
            &[("Buy milk", false), ("Write <b>tests</b>", false)],
        )
        .await;
        add(&browser, "Call Ada").await;
        wait_for(
            &browser,
            &[
                ("Buy milk", false),
                ("Write <b>tests</b>", false),
                ("Call Ada", false),
            ],
        )
        .await;

        // Toggle the first: HTMX swaps in the new list without a page load.
        browser
            .find(Locator::Css("#todo-0000000001 input[type=checkbox]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(
            &browser,
            &[
                ("Buy milk", true),
                ("Write <b>tests</b>", false),
                ("Call Ada", false),
            ],
        )
        .await;
        let count = browser
            .find(Locator::Id("count"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(count, "2 left");

        browser
            .find(Locator::Css("#todo-0000000003 button.delete"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(
            &browser,
            &[("Buy milk", true), ("Write <b>tests</b>", false)],
        )
        .await;
        save_screenshot(&browser, "todo-before-restart.png").await;
        browser.close().await.unwrap();
    });
    drop(server);

    let server = start(&db);
    let url = server.url("/");
    runtime.block_on(async {
        let browser = driver.browser().await;
        browser.goto(&url).await.unwrap();
        wait_for(
            &browser,
            &[("Buy milk", true), ("Write <b>tests</b>", false)],
        )
        .await;
        save_screenshot(&browser, "todo-after-restart.png").await;
        // Everything the page loaded came from nixweb itself.
        for resource in loaded_resources(&browser).await {
            assert!(
                resource.starts_with(&url),
                "loaded from elsewhere: {resource}"
            );
        }
        browser.close().await.unwrap();
    });
}

#[test]
fn hostile_titles_are_shown_as_text_and_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = start(&dir.path().join("todo.db"));
    let url = server.url("/");
    runtime.block_on(async {
        let browser = driver.browser().await;
        browser.goto(&url).await.unwrap();
        let mut expected = Vec::new();
        for injection in INJECTIONS {
            add(&browser, injection).await;
            expected.push((injection, false));
            wait_for(&browser, &expected).await;
            assert!(!injection_took_effect(&browser).await, "{injection}");
        }
        // And after a full page load, from the server's own rendering of the list.
        browser.refresh().await.unwrap();
        wait_for(&browser, &expected).await;
        assert!(!injection_took_effect(&browser).await);
        browser.close().await.unwrap();
    });
}

#[test]
fn two_browsers_have_two_lists() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("todo.db"));
    let url = server.url("/");
    // Two chromedrivers, each with a profile (and so a cookie jar) of its own.
    let (first, second) = (Driver::start(), Driver::start());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let ada = first.browser().await;
        let bob = second.browser().await;
        ada.goto(&url).await.unwrap();
        bob.goto(&url).await.unwrap();
        add(&ada, "Ada's first").await;
        wait_for(&ada, &[("Ada's first", false)]).await;
        add(&bob, "Bob's only").await;
        wait_for(&bob, &[("Bob's only", false)]).await;
        add(&ada, "Ada's second").await;
        wait_for(&ada, &[("Ada's first", false), ("Ada's second", false)]).await;
        // Loaded afresh, each still sees only its own.
        ada.refresh().await.unwrap();
        bob.refresh().await.unwrap();
        wait_for(&ada, &[("Ada's first", false), ("Ada's second", false)]).await;
        wait_for(&bob, &[("Bob's only", false)]).await;
        save_screenshot(&ada, "todo-two-browsers-ada.png").await;
        save_screenshot(&bob, "todo-two-browsers-bob.png").await;
        ada.close().await.unwrap();
        bob.close().await.unwrap();
    });
}
