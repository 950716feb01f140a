//! examples/godbolt through one real server on loopback: the blog's request shape, the
//! limits, and each kind of abuse the issue lists. Programs carry a fresh nonce, because
//! the same code is answered from the Nix store without building again.

mod common;

use common::{compile, fresh, serve, server};
use nixweb_testkit::{Method, StatusCode};
use std::time::Instant;

#[test]
fn the_page_has_an_editor_a_run_button_and_the_front_end_files() {
    let s = server();
    let page = s.get_text("/");
    for needle in [
        "<textarea id=\"code\" name=\"code\">",
        "hx-post=\"/compile\"",
        "id=\"run\"",
        "/vendor/htmx.min.js",
        "/vendor/codemirror.js",
        "<option value=\"c\">C</option>",
        "name=\"flags\"",
    ] {
        assert!(page.contains(needle), "the page lacks {needle}");
    }
    // Served by nixweb from node_modules (npm ci), not from a CDN.
    for file in [
        "/vendor/htmx.min.js",
        "/vendor/codemirror.js",
        "/vendor/codemirror.css",
        "/vendor/clike.js",
        "/app.js",
        "/style.css",
    ] {
        let text = s.get_text(file);
        assert!(text.len() > 100, "{file} is nearly empty");
    }
    assert!(s.get_text("/vendor/htmx.min.js").contains("htmx"));
}

#[test]
fn hello_world_by_get_as_in_the_blog_and_by_post() {
    let s = server();
    let code = fresh(
        "#include <iostream>\nint main() { std::cout << \"Hello World\" << std::endl; return 3; }",
    );
    let reply = s
        .request(Method::GET, "/compile")
        .query(&[("code", code.as_str())])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let html = reply.text().unwrap();
    assert!(
        html.contains("<pre class=\"program-output\">Hello World\n</pre>"),
        "{html}"
    );
    assert!(html.contains("exit status 3"), "{html}");

    let reply = s
        .request(Method::POST, "/compile")
        .form(&[
            ("code", code.as_str()),
            ("language", "c++"),
            ("flags", "-O2"),
        ])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.text().unwrap().contains("Hello World"));
}

#[test]
fn c_with_flags_and_the_exit_status() {
    let r = compile(
        &fresh("#include <stdio.h>\nint main(void) { for (int i = 0; i < 3; i++) printf(\"%d\", i); return 7; }"),
        "c",
        "-O2 -std=c11 -Wall",
    );
    assert_eq!(r["compiled"], true, "{r}");
    assert_eq!(r["programOutput"], "012");
    assert_eq!(r["exitCode"], 7);
    // C++ only syntax fails as C.
    let r = compile(
        &fresh("int main() { auto x = new int; return 0; }"),
        "c",
        "",
    );
    assert_eq!(r["compiled"], false, "{r}");
}

#[test]
fn compiler_errors_are_shown() {
    let r = compile(&fresh("int main() { this is not C++ }"), "c++", "");
    assert_eq!(r["compiled"], false);
    assert_eq!(r["ran"], false);
    let errors = r["compilerOutput"].as_str().unwrap();
    assert!(errors.contains("error:"), "{errors}");
    assert!(errors.contains("main.cpp:1:"), "{errors}");

    let s = server();
    let html = s
        .request(Method::POST, "/compile")
        .form(&[("code", "int main() { oops }")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("compilation failed"), "{html}");
    assert!(html.contains("class=\"compiler-output\""), "{html}");
}

#[test]
fn bad_requests_are_refused_before_building() {
    let s = server();
    let status_of = |fields: &[(&str, &str)]| {
        s.request(Method::POST, "/compile")
            .form(fields)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(status_of(&[("flags", "-O2")]), StatusCode::BAD_REQUEST);
    assert_eq!(
        status_of(&[("code", "int main(){}"), ("language", "rust")]),
        StatusCode::BAD_REQUEST
    );
    for flags in [
        "-o /tmp/x",
        "-o/tmp/x",
        "-fdump-tree-all",
        "-save-temps",
        "@/etc/passwd",
        "-O2 ;rm",
        "$(id)",
    ] {
        assert_eq!(
            status_of(&[("code", "int main(){}"), ("flags", flags)]),
            StatusCode::BAD_REQUEST,
            "{flags}"
        );
    }
}

#[test]
fn code_over_64_kib_is_413() {
    let s = server();
    let head = "int main(){}\n//";
    let just_fits = format!("{head}{}", "x".repeat(65536 - head.len()));
    assert_eq!(just_fits.len(), 65536);
    let too_big = format!("{just_fits}x");
    let status_of = |code: &str| {
        s.request(Method::POST, "/compile")
            .form(&[("code", code)])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(status_of(&too_big), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(status_of(&just_fits), StatusCode::OK);

    // By GET the code is in the URL, which the HTTP layer refuses before the app: 431, as
    // the request head passes its 64 KiB bound (414 for a long URL in a smaller head).
    // Raw TCP, because HTTP clients refuse to send such a URL at all.
    use std::io::{Read, Write};
    let address = s.url("").trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(address).unwrap();
    let encoded: String = too_big
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let request =
        format!("GET /compile?code={encoded} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let _ = tcp.write_all(request.as_bytes());
    let mut reply = String::new();
    let _ = tcp.read_to_string(&mut reply);
    assert!(
        ["414", "413", "431"]
            .iter()
            .any(|code| reply.starts_with(&format!("HTTP/1.1 {code}"))),
        "{}",
        reply.lines().next().unwrap_or("")
    );
}

#[test]
fn an_endless_loop_prints_timeout_and_the_server_keeps_serving() {
    let s = server();
    let looping = fresh("int main() { for (;;) {} }");
    let started = Instant::now();
    let r = std::thread::scope(|scope| {
        let endless = scope.spawn(|| compile(&looping, "c++", ""));
        // Meanwhile the server answers other requests, builds included.
        let hello = compile(
            &fresh("#include <cstdio>\nint main() { puts(\"still here\"); }"),
            "c++",
            "",
        );
        assert_eq!(hello["programOutput"], "still here\n");
        assert!(s.get_text("/").contains("Run"));
        endless.join().unwrap()
    });
    eprintln!("endless loop answered after {:?}", started.elapsed());
    assert_eq!(r["timedOut"], true, "{r}");
    assert!(r["output"].as_str().unwrap().contains("Timeout"), "{r}");
    assert!(server().get_text("/").contains("Run"));
}

#[test]
fn an_output_flood_is_capped_to_its_last_4096_bytes() {
    let r = compile(
        &fresh(
            "#include <cstdio>\nint main() { for (long i = 0;; i++) printf(\"line %ld\\n\", i); }",
        ),
        "c++",
        "",
    );
    let output = r["programOutput"].as_str().unwrap();
    assert!(output.len() <= 4096, "{} bytes", output.len());
    assert!(
        output.len() > 3000,
        "the end of the flood is shown: {output}"
    );
    assert!(output.contains("\nline "), "{output}");
    assert!(output.ends_with("and was stopped\n"), "{output}");
    assert!(r["output"].as_str().unwrap().len() <= 4096);
}

#[test]
fn a_fork_bomb_stays_contained() {
    // The bomb names its processes, so the test can look for survivors on the host.
    let name = format!("bomb{}", std::process::id() % 100_000);
    let code = fresh(&format!(
        "#include <unistd.h>\n#include <sys/prctl.h>\n#include <cstdio>\n\
         int main() {{ prctl(PR_SET_NAME, \"{name}\"); int ok = 0, failed = 0;\n\
         for (int i = 0; i < 10000; i++) {{ if (fork() < 0) failed++; else ok++; }}\n\
         printf(\"forks refused: %d\\n\", failed > 0); fflush(stdout); for (;;) fork(); }}"
    ));
    let r = compile(&code, "c++", "");
    assert_eq!(r["ran"], true, "{r}");
    assert!(
        r["programOutput"]
            .as_str()
            .unwrap()
            .contains("forks refused: 1"),
        "the process limit stops it: {r}"
    );
    assert_eq!(r["timedOut"], true, "{r}");
    let survivors = std::process::Command::new("pgrep")
        .args(["-x", &name])
        .output()
        .unwrap();
    assert!(
        survivors.stdout.is_empty(),
        "fork bomb processes survived: {}",
        String::from_utf8_lossy(&survivors.stdout)
    );
    assert!(server().get_text("/").contains("Run"));
}

#[test]
fn the_program_sees_no_host_files_and_no_network() {
    let s = server();
    let port = s
        .url("/")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let code = fresh(&format!(
        r#"#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <pwd.h>
static void try_connect(const char *ip, int port) {{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{{}}; a.sin_family = AF_INET; a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    bool ok = connect(s, (sockaddr *)&a, sizeof a) == 0;
    std::cout << "connect " << ip << ":" << port << (ok ? " succeeded" : " failed") << "\n";
}}
int main() {{
    passwd *me = getpwuid(getuid());
    std::cout << "user " << (me ? me->pw_name : "?") << " uid " << getuid() << "\n";
    std::ifstream passwd("/etc/passwd");
    std::cout << "passwd: " << passwd.rdbuf() << "\n";
    std::cout << "shadow " << (fopen("/etc/shadow", "r") ? "readable" : "unreadable") << "\n";
    std::cout << "root " << (access("/root", F_OK) == 0 ? "exists" : "absent") << "\n";
    std::cout << "home " << (access("/home", F_OK) == 0 ? "exists" : "absent") << "\n";
    std::cout << "usr " << (access("/usr/bin", W_OK) == 0 ? "writable" : "read-only") << "\n";
    std::cout << "tmp " << (access("/tmp", W_OK) == 0 ? "writable" : "read-only") << "\n";
    std::cout << "cwd " << (access(".", W_OK) == 0 ? "writable" : "read-only") << "\n";
    try_connect("127.0.0.1", {port});
    try_connect("1.1.1.1", 80);
    addrinfo *found;
    std::cout << "dns " << (getaddrinfo("example.com", "80", nullptr, &found) == 0 ? "resolved" : "failed") << "\n";
}}"#
    ));
    let r = compile(&code, "c++", "");
    let out = r["programOutput"].as_str().unwrap();
    let host_passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let host_root = host_passwd.lines().next().unwrap();
    assert!(
        !out.contains(host_root),
        "the host's /etc/passwd leaked: {out}"
    );
    assert!(out.contains("passwd: root:x:0:0:Nix build user"), "{out}");
    for line in [
        "user nixbld uid 1000",
        "shadow unreadable",
        "root absent",
        "home absent",
        "usr read-only",
        "tmp read-only",
        "cwd read-only",
        &format!("connect 127.0.0.1:{port} failed"),
        "connect 1.1.1.1:80 failed",
        "dns failed",
    ] {
        assert!(out.contains(line), "expected `{line}` in:\n{out}");
    }
    // The same address does answer outside the sandbox: the failure is the sandbox's doing.
    assert!(std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok());
}

#[test]
fn compiler_abuse_is_bounded() {
    let r = compile(&fresh("#include \"/dev/zero\"\nint main() {}"), "c++", "");
    assert_eq!(r["compiled"], false, "{r}");
    let why = r["compilerOutput"].as_str().unwrap();
    assert!(
        why.contains("out of memory") || r["compilerTimedOut"] == true,
        "{why}"
    );

    let bomb = fresh(
        "#include <utility>\n\
         template <class T, int N> struct Bomb { typedef typename Bomb<std::pair<T, T>, N - 1>::type type; };\n\
         template <class T> struct Bomb<T, 0> { typedef T type; };\n\
         int main() { Bomb<int, 40>::type x; (void)x; }",
    );
    let r = compile(&bomb, "c++", "");
    assert_eq!(r["compiled"], false, "{r}");
    assert!(
        r["compilerTimedOut"] == true || r["compilerOutput"].as_str().unwrap().contains("memory"),
        "{r}"
    );
}

#[test]
fn results_are_not_rooted_so_garbage_collection_frees_them() {
    let r = compile(&fresh("int main() { return 0; }"), "c++", "");
    let path = r["storePath"].as_str().unwrap();
    assert!(std::path::Path::new(path).exists(), "{path}");
    let roots = std::process::Command::new("nix-store")
        .args(["--query", "--roots", path])
        .output()
        .unwrap();
    assert!(roots.status.success());
    assert_eq!(
        String::from_utf8_lossy(&roots.stdout).trim(),
        "",
        "{path} is rooted"
    );
    // `nix-store --delete` refuses live paths: deleting it proves a collection would.
    let deleted = std::process::Command::new("nix-store")
        .args(["--delete", path])
        .output()
        .unwrap();
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert!(!std::path::Path::new(path).exists());
}

#[test]
fn without_the_sandbox_the_builder_refuses_to_run_code() {
    let unsandboxed = serve(&["--nix-option", "sandbox", "false"]);
    let code = fresh("#include <cstdio>\nint main() { puts(\"should not run\"); }");
    let html = unsandboxed
        .request(Method::POST, "/compile")
        .form(&[("code", code.as_str())])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        html.contains("refusing to run code outside the Nix build sandbox"),
        "{html}"
    );
    assert!(!html.contains("should not run\n</pre>"), "{html}");
}

#[test]
fn with_nixpkgs_on_the_search_path_it_uses_pkgs_gcc() {
    let fake = example_godbolt::app_dir().join("tests/fake-nixpkgs");
    let nix_path = format!("nixpkgs={}", fake.display());
    let with_nixpkgs = serve(&["--nix-option", "nix-path", &nix_path]);
    let code = fresh("#include <cstdio>\nint main() { puts(\"built with pkgs.gcc\"); }");
    let reply = with_nixpkgs
        .request(Method::POST, "/compile")
        .header("Accept", "application/json")
        .form(&[("code", code.as_str())])
        .send()
        .unwrap();
    let r: serde_json::Value = reply.json().unwrap();
    assert_eq!(r["toolchain"], "nixpkgs gcc 0-test", "{r}");
    assert_eq!(r["programOutput"], "built with pkgs.gcc\n", "{r}");
    // And the shared server, without nixpkgs, uses the host's.
    assert_eq!(
        compile(&fresh("int main() {}"), "c", "")["toolchain"],
        "host gcc"
    );
}

#[test]
fn binary_output_becomes_valid_text_and_html_is_escaped() {
    let code = fresh(
        "#include <stdio.h>\nint main(void) { static const char out[] = \"a\\xff\\xfe\\0b<script>\\xc3\\xa9\\n\"; fwrite(out, 1, sizeof out - 1, stdout); }",
    );
    let r = compile(&code, "c", "");
    assert_eq!(r["programOutput"], "ab<script>é\n", "{r}");
    let html = server()
        .request(Method::POST, "/compile")
        .form(&[("code", code.as_str()), ("language", "c")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("ab&lt;script&gt;é"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn nix_own_build_timeout_backs_up_the_builder() {
    // With Nix's `timeout` below the builder's 10 s, Nix stops the build itself: the request
    // fails (500) instead of reporting the builder's "Timeout".
    let short = serve(&["--nix-option", "timeout", "2"]);
    let code = fresh("int main() { for (;;) {} }");
    let reply = short
        .request(Method::POST, "/compile")
        .form(&[("code", code.as_str())])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!reply.text().unwrap().contains("Timeout: the program ran"));
}

#[test]
fn builds_run_two_at_a_time() {
    // Three programs that never end, each naming its process so the host can count them;
    // nixweb's two workers (nixweb.toml) let at most two run at once.
    let name = format!("busy{}", std::process::id() % 100_000);
    let code = |n: usize| {
        fresh(&format!(
            "#include <sys/prctl.h>\nint main() {{ prctl(PR_SET_NAME, \"{name}\"); for (;;) {{}} }} // {n}"
        ))
    };
    let count_running = || {
        let out = std::process::Command::new("pgrep")
            .args(["-c", "-x", &name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<usize>()
            .unwrap_or(0)
    };
    let most = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|n| {
                let code = code(n);
                scope.spawn(move || compile(&code, "c++", ""))
            })
            .collect();
        let mut most = 0;
        while !runs.iter().all(|r| r.is_finished()) {
            most = most.max(count_running());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        for run in runs {
            assert_eq!(run.join().unwrap()["timedOut"], true);
        }
        most
    });
    eprintln!("at most {most} of the programs ran at once");
    assert!(most >= 1, "the programs were seen running");
    assert!(most <= 2, "{most} builds ran at once");
}

#[test]
fn the_program_gets_256_mib_of_memory() {
    let code = fresh(
        "#include <cstdio>\n#include <cstdlib>\n#include <cstring>\n\
         static bool get(size_t mib) { void *p = malloc(mib << 20); if (p) memset(p, 1, mib << 20); bool ok = p; free(p); return ok; }\n\
         int main() { printf(\"100 MiB %s, 512 MiB %s\\n\", get(100) ? \"yes\" : \"no\", get(512) ? \"yes\" : \"no\"); }",
    );
    let r = compile(&code, "c++", "");
    assert_eq!(r["programOutput"], "100 MiB yes, 512 MiB no\n", "{r}");
}

#[test]
fn nix_garbage_collects_what_requests_leave_behind() {
    // nixweb.toml asks Nix to collect garbage when free space runs low (min-free). Here, in
    // a throwaway store so the machine's own is untouched, "low" is always: every build
    // collects, and what earlier requests left must be gone.
    let store = tempfile::Builder::new()
        .prefix("godbolt-store-")
        .tempdir()
        .unwrap();
    let url = format!("local?root={}", store.path().display());
    let always = "1000000000000000000";
    let gc = serve(&[
        "--nix-option",
        "store",
        &url,
        "--nix-option",
        "min-free",
        always,
        "--nix-option",
        "max-free",
        always,
        "--nix-option",
        "min-free-check-interval",
        "0",
    ]);
    let results_in_store = || {
        std::fs::read_dir(store.path().join("nix/store"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with("-nixweb-cc-run")
            })
            .count()
    };
    for n in 0..3 {
        let code = fresh(&format!(
            "#include <cstdio>\nint main() {{ printf(\"{n}\"); }}"
        ));
        let r: serde_json::Value = gc
            .request(Method::POST, "/compile")
            .header("Accept", "application/json")
            .form(&[("code", code.as_str())])
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(r["programOutput"], n.to_string(), "{r}");
        assert!(
            results_in_store() <= 1,
            "{} results kept",
            results_in_store()
        );
    }
}

#[test]
fn killing_its_supervisors_does_not_free_the_program() {
    // Signals to the builder (process 1 of the sandbox) are ignored; killing `timeout`
    // ends the run at once, and the builder then kills the program too.
    let name = format!("escape{}", std::process::id() % 100_000);
    let code = fresh(&format!(
        "#include <csignal>\n#include <cstdio>\n#include <sys/prctl.h>\n#include <unistd.h>\n\
         int main() {{ prctl(PR_SET_NAME, \"{name}\");\n\
         for (int s = 1; s < 32; s++) if (s != SIGCHLD) kill(1, s);\n\
         kill(getppid(), SIGKILL); puts(\"escaped?\"); fflush(stdout); for (;;) {{}} }}"
    ));
    let r = compile(&code, "c++", "");
    assert_eq!(r["ran"], true, "{r}");
    assert_eq!(r["exitCode"], 137, "the supervisor was killed: {r}");
    let survivors = std::process::Command::new("pgrep")
        .args(["-x", &name])
        .output()
        .unwrap();
    assert!(
        survivors.stdout.is_empty(),
        "the program outlived its build: {}",
        String::from_utf8_lossy(&survivors.stdout)
    );
}
