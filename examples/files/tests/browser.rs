//! A person using examples/files in a real browser (headless Chromium): the page's style
//! and logo come from the static folder, a name is remembered by the session, and a file
//! chosen in the form's file input is uploaded and listed; hostile names and file contents
//! are shown as text and never run. Leaves screenshots in target/test-artifacts/files-*.png.

use nixweb_testkit::browser::fantoccini::{Client, Locator};
use nixweb_testkit::browser::{
    injection_took_effect, loaded_resources, save_screenshot, Driver, INJECTIONS,
};
use nixweb_testkit::{engines, TestServer};

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Types `text` into the input `css`, submits that input's form, and waits (a bounded
/// while) for the page that answers it.
async fn submit(browser: &Client, css: &str, text: &str) {
    // A mark on the current page, gone once the next one is loaded.
    browser
        .execute("window.nixwebOldPage = true;", vec![])
        .await
        .unwrap();
    let input = browser.find(Locator::Css(css)).await.unwrap();
    input.send_keys(text).await.unwrap();
    browser
        .find(Locator::XPath(&format!(
            "//input[@name='{}']/ancestor::form//button",
            input.attr("name").await.unwrap().unwrap()
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        let old = browser
            .execute(
                "return document.readyState !== 'complete' || window.nixwebOldPage === true;",
                vec![],
            )
            .await;
        if matches!(old, Ok(serde_json::Value::Bool(false))) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the form's answer did not load");
}

/// The file names in the page's uploads table, newest first.
async fn listed(browser: &Client) -> Vec<String> {
    let rows = browser
        .execute(
            "return [...document.querySelectorAll('#uploads tr td:first-child')].map(td => td.textContent);",
            vec![],
        )
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_person_uploads_files_through_the_form_and_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("file:{}", dir.path().join("session.key").display());
    // Files to choose in the file input: one of hostile text, one binary.
    let hostile = dir.path().join("hostile.html");
    std::fs::write(&hostile, INJECTIONS.join("\n")).unwrap();
    let binary = dir.path().join("pixel.png");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0xff]).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    for engine in engines() {
        // A profile per engine: cookies do not tell ports apart, and the second server
        // verifies the first one's sessions (one secret).
        let driver = Driver::start();
        let server = TestServer::start(
            example_files::app_dir(),
            &["--engine", engine, "--session-secret", &secret],
        );
        let url = server.url("/");
        runtime.block_on(async {
            let browser = driver.browser().await;
            browser.goto(&url).await.unwrap();
            // The stylesheet from /assets was applied.
            let width = browser
                .execute("return getComputedStyle(document.body).maxWidth;", vec![])
                .await
                .unwrap();
            assert_eq!(width.as_str(), Some("640px"), "{engine}");

            // A hostile name, remembered by the session and shown as text.
            let name = INJECTIONS.concat();
            submit(&browser, "input[name=name]", &name).await;
            assert_eq!(
                text_of(&browser, "#greeting").await,
                format!("Hello, {name}!"),
                "{engine}"
            );
            assert!(!injection_took_effect(&browser).await, "{engine}");

            // Files chosen in the file input and sent by the form.
            submit(&browser, "input[type=file]", hostile.to_str().unwrap()).await;
            assert_eq!(
                text_of(&browser, "#preview").await,
                INJECTIONS.join("\n"),
                "{engine}"
            );
            assert!(!injection_took_effect(&browser).await, "{engine}");
            save_screenshot(&browser, &format!("files-uploaded-{engine}.png")).await;

            browser.goto(&url).await.unwrap();
            submit(&browser, "input[type=file]", binary.to_str().unwrap()).await;
            assert_eq!(text_of(&browser, "main p").await, "A binary file.");

            // Back on the page, the session lists both, newest first, and still knows
            // the name.
            browser.goto(&url).await.unwrap();
            assert_eq!(listed(&browser).await, ["pixel.png", "hostile.html"]);
            assert_eq!(
                text_of(&browser, "#greeting").await,
                format!("Hello, {name}!")
            );
            assert!(!injection_took_effect(&browser).await, "{engine}");
            save_screenshot(&browser, &format!("files-home-{engine}.png")).await;

            // Everything the page loaded came from nixweb itself, the logo among it.
            let resources = loaded_resources(&browser).await;
            assert!(
                resources.iter().any(|r| r.ends_with("/assets/logo.svg")),
                "{resources:?}"
            );
            for resource in resources {
                assert!(
                    resource.starts_with(&url),
                    "loaded from elsewhere: {resource}"
                );
            }

            // The app's own 404 page, in the same layout.
            browser.goto(&server.url("/nowhere")).await.unwrap();
            assert_eq!(
                text_of(&browser, "#missing").await,
                "Nothing here at /nowhere."
            );
            browser.close().await.unwrap();
        });
    }
}
