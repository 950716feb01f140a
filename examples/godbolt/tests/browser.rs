//! A real browser against a real server: headless Chromium, driven through chromedriver,
//! loads the page, types a program into the editor, clicks Run and reads the output.
//! Leaves a screenshot in target/test-artifacts/godbolt.png.

mod common;

use nixweb_testkit::browser::fantoccini::{key::Key, Client, Locator};
use nixweb_testkit::browser::{loaded_resources, save_screenshot, Driver};
use std::time::Duration;

#[test]
fn a_browser_types_a_program_clicks_run_and_reads_hello_world() {
    let server = common::server();
    let url = server.url("/");
    let driver = Driver::start();
    // Fresh, so the server really builds this program.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (output, c_output, resources) = runtime.block_on(async {
        let browser = driver.browser().await;
        let result = drive(&browser, &url, nonce).await;
        browser.close().await.unwrap();
        result
    });
    assert!(
        output.contains(&format!("Hello World {nonce}")),
        "the output pane shows: {output}"
    );
    assert!(
        c_output.contains(&format!("Hello World from C {nonce}")),
        "the output pane shows: {c_output}"
    );
    // Everything the page loaded came from nixweb itself: it works with no internet.
    for resource in resources {
        assert!(
            resource.starts_with(&url),
            "loaded from elsewhere: {resource}"
        );
    }
}

async fn drive(browser: &Client, url: &str, nonce: u32) -> (String, String, Vec<String>) {
    browser.goto(url).await.unwrap();
    // A real editor: CodeMirror replaced the textarea.
    browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".CodeMirror"))
        .await
        .expect("the CodeMirror editor appears");
    type_program(
        browser,
        &format!(
            "#include <cstdio>\nint main() {{\nputs(\"Hello World {nonce}\");\nreturn 0;\n}}\n"
        ),
    )
    .await;
    let output = run_and_read(browser, &format!("Hello World {nonce}")).await;
    save_screenshot(browser, "godbolt.png").await;

    // The language selector: valid C that C++ rejects (malloc's void * needs no cast in C).
    browser
        .find(Locator::Id("language"))
        .await
        .unwrap()
        .select_by_value("c")
        .await
        .unwrap();
    type_program(
        browser,
        &format!("#include <stdio.h>\n#include <stdlib.h>\nint main(void) {{\nint *p = malloc(sizeof *p);\n*p = {nonce};\nprintf(\"Hello World from C %d\\n\", *p);\nreturn 0;\n}}\n"),
    )
    .await;
    let c_output = run_and_read(browser, "from C").await;

    let resources = loaded_resources(browser).await;
    (output, c_output, resources)
}

/// Clicks into the editor, selects everything and types over it, key by key.
async fn type_program(browser: &Client, program: &str) {
    browser
        .find(Locator::Css(".CodeMirror"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = browser
        .find(Locator::Css(".CodeMirror textarea"))
        .await
        .unwrap();
    let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Null));
    input.send_keys(&select_all).await.unwrap();
    input
        .send_keys(&char::from(Key::Backspace).to_string())
        .await
        .unwrap();
    input.send_keys(program).await.unwrap();
}

/// Clicks Run and returns the program output once it contains `expected`.
async fn run_and_read(browser: &Client, expected: &str) -> String {
    browser
        .find(Locator::Id("run"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let xpath = format!("//div[@id='output']//pre[contains(., '{expected}')]");
    let found = browser
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::XPath(&xpath))
        .await;
    let pane = browser
        .find(Locator::Id("output"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.is_ok(), "no `{expected}` in the output pane: {pane}");
    pane
}
