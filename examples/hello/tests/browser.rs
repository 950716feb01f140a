//! Hostile text in a real browser (headless Chromium): typed into the form and sent in the
//! query, it comes back shown as text, and none of it runs.

use nixweb_testkit::browser::fantoccini::{Client, Locator};
use nixweb_testkit::browser::{injection_took_effect, Driver, INJECTIONS};
use nixweb_testkit::{engines, TestServer};

async fn body_text(browser: &Client) -> String {
    browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[test]
fn hostile_names_are_shown_as_text_and_never_run() {
    let driver = Driver::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for engine in engines() {
        let server = TestServer::start(example_hello::app_dir(), &["--engine", engine]);
        runtime.block_on(async {
            let browser = driver.browser().await;
            for injection in INJECTIONS {
                // Through the form and its POST.
                browser.goto(&server.url("/")).await.unwrap();
                let input = browser
                    .find(Locator::Css("input[name=name]"))
                    .await
                    .unwrap();
                input.send_keys(injection).await.unwrap();
                browser
                    .find(Locator::Css("form button"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                let greeting = browser
                    .wait()
                    .for_element(Locator::Css("p"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert_eq!(greeting, format!("Hello, {injection}!"), "{engine}");
                assert!(
                    !injection_took_effect(&browser).await,
                    "{engine}: {injection}"
                );

                // Through the query string.
                let mut url = url::Url::parse(&server.url("/test/my/hello")).unwrap();
                url.query_pairs_mut().append_pair("name", injection);
                browser.goto(url.as_str()).await.unwrap();
                assert_eq!(body_text(&browser).await, format!("Hello, {injection}!"));
                assert!(
                    !injection_took_effect(&browser).await,
                    "{engine}: {injection}"
                );
            }
            browser.close().await.unwrap();
        });
    }
}
