//! Every input a campaign found (findings/TARGET/*.input) runs again through its target,
//! on a thread with an ordinary stack, and must end: no panic, no abort, in time.

use std::time::{Duration, Instant};

#[test]
fn every_finding_runs_through_its_target_without_failing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("findings");
    let mut replayed = 0;
    for target in nixweb_fuzz::targets::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let started = Instant::now();
            let name = path.display().to_string();
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || nixweb_fuzz::targets::run(target, &input))
                .unwrap()
                .join()
                .unwrap_or_else(|_| panic!("{name} fails again"));
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} took {:?}",
                started.elapsed()
            );
            replayed += 1;
        }
    }
    println!("{replayed} findings replayed");
}
