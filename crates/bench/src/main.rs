//! nixweb-bench: measures servers under load with wrk and prints a Markdown report.
//!
//! Each target runs as its own process (so its memory can be read from /proc), is warmed up,
//! then loaded by `wrk --latency` at a fixed number of connections. Targets take turns for
//! several rounds, so a slow minute of a shared machine hits all of them rather than one;
//! the report gives, per target, the median over rounds of requests/s, p50/p99 latency and
//! idle RSS, the peak RSS, and the median of its ratios to the first target within each
//! round (each round's ratios listed too).

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Parser)]
struct Args {
    /// Seconds of load per target.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Rounds: every target is measured once per round, in turn.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// A target: NAME|URL-PATH|COMMAND; COMMAND "nixweb …" and "bare" use the built binaries.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// The nixweb binary (build it with --release first).
    #[arg(long, default_value = "target/release/nixweb")]
    nixweb: PathBuf,
    /// The bare server binary.
    #[arg(long, default_value = "target/release/bare-server")]
    bare: PathBuf,
}

/// One server to load.
struct Target {
    name: String,
    /// The command that starts it; it must print "… listening on http://ADDR".
    command: Vec<String>,
    path: String,
    /// A wrk Lua script (for POSTs), if any.
    script: Option<String>,
}

struct Measurement {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    non_2xx: u64,
}

fn parse_target(spec: &str, args: &Args) -> Result<Target> {
    // name|path|program arg arg…[|wrk script]  ("nixweb" and "bare" are the built binaries)
    let mut parts = spec.split('|');
    let (Some(name), Some(path), Some(command)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("a target is NAME|PATH|COMMAND[|SCRIPT], not {spec:?}");
    };
    let script = parts.next().map(str::to_owned);
    let mut command: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    match command.first().map(String::as_str) {
        Some("nixweb") => command[0] = args.nixweb.display().to_string(),
        Some("bare") => command[0] = args.bare.display().to_string(),
        _ => {}
    }
    Ok(Target {
        name: name.to_owned(),
        command,
        path: path.to_owned(),
        script,
    })
}

fn start(target: &Target) -> Result<(Child, String)> {
    let mut child = Command::new(&target.command[0])
        .args(&target.command[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("RUST_LOG", "warn")
        .spawn()
        .with_context(|| format!("cannot start {:?}", target.command))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let Some((_, address)) = line.trim().split_once(" listening on ") else {
        bail!("{} printed {line:?} instead of its address", target.name);
    };
    Ok((child, address.to_owned()))
}

/// VmRSS and VmHWM (peak) of a process, in KiB.
fn rss(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// Runs wrk and reads requests/s, p50 and p99 from its --latency report.
fn wrk(url: &str, args: &Args, seconds: u64, script: Option<&str>) -> Result<(f64, f64, f64, u64)> {
    let mut command = Command::new("wrk");
    command
        .args([
            "--latency",
            "-t",
            &args.threads.to_string(),
            "-c",
            &args.connections.to_string(),
        ])
        .args(["-d", &format!("{seconds}s"), "--timeout", "30s"]);
    if let Some(script) = script {
        command.args(["-s", script]);
    }
    let output = command
        .arg(url)
        .output()
        .context("cannot run wrk: apt-get install wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |prefix: &str| -> Option<String> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()))
    };
    let rps: f64 = number("Requests/sec:")
        .context("wrk printed no Requests/sec")?
        .parse()?;
    let p50 = parse_duration(&number("50%").context("no p50")?)?;
    let p99 = parse_duration(&number("99%").context("no p99")?)?;
    let non_2xx = number("Non-2xx or 3xx responses:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok((rps, p50, p99, non_2xx))
}

/// wrk durations: "812.00us", "3.21ms", "1.02s".
fn parse_duration(text: &str) -> Result<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unknown duration {text:?}")
    };
    Ok(number.parse::<f64>()? * factor)
}

fn measure(target: &Target, args: &Args) -> Result<Measurement> {
    let (mut child, address) = start(target)?;
    let url = format!("{address}{}", target.path);
    std::thread::sleep(Duration::from_millis(300));
    let (idle_rss_kib, _) = rss(child.id())?;
    // Warm-up: caches filled, connections and threads created.
    wrk(&url, args, 2, target.script.as_deref())?;
    let (requests_per_second, p50_ms, p99_ms, non_2xx) =
        wrk(&url, args, args.duration, target.script.as_deref())?;
    let (_, peak_rss_kib) = rss(child.id())?;
    child.kill()?;
    child.wait()?;
    Ok(Measurement {
        requests_per_second,
        p50_ms,
        p99_ms,
        idle_rss_kib,
        peak_rss_kib,
        non_2xx,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.targets.is_empty() {
        bail!("give at least one --target NAME|PATH|COMMAND (scripts/bench has the standard set)");
    }
    let targets = args
        .targets
        .iter()
        .map(|t| parse_target(t, &args))
        .collect::<Result<Vec<_>>>()?;
    // rounds[r][t]: target t in round r.
    let mut rounds: Vec<Vec<Measurement>> = Vec::new();
    for round in 1..=args.rounds.max(1) {
        let mut this_round = Vec::new();
        for target in &targets {
            eprintln!("bench: round {round}: {} …", target.name);
            this_round.push(measure(target, &args)?);
        }
        rounds.push(this_round);
    }
    println!(
        "| target | requests/s | vs {} | per round | p50 | p99 | idle RSS | peak RSS | non-2xx |",
        targets[0].name
    );
    println!("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    for (t, target) in targets.iter().enumerate() {
        let of = |f: fn(&Measurement) -> f64| median(rounds.iter().map(|r| f(&r[t])).collect());
        let ratios: Vec<f64> = rounds
            .iter()
            .map(|r| r[t].requests_per_second / r[0].requests_per_second)
            .collect();
        let listed: Vec<String> = ratios.iter().map(|x| format!("{x:.3}")).collect();
        let peak = rounds.iter().map(|r| r[t].peak_rss_kib).max().unwrap_or(0);
        let non_2xx: u64 = rounds.iter().map(|r| r[t].non_2xx).sum();
        println!(
            "| {} | {:.0} | {:.3} | {} | {:.2} ms | {:.2} ms | {:.1} MiB | {:.1} MiB | {} |",
            target.name,
            of(|m| m.requests_per_second),
            median(ratios),
            listed.join(" "),
            of(|m| m.p50_ms),
            of(|m| m.p99_ms),
            of(|m| m.idle_rss_kib as f64) / 1024.0,
            peak as f64 / 1024.0,
            non_2xx
        );
    }
    Ok(())
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::{median, parse_duration};

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn wrk_durations() {
        assert_eq!(parse_duration("812.00us").unwrap(), 0.812);
        assert_eq!(parse_duration("3.21ms").unwrap(), 3.21);
        assert_eq!(parse_duration("1.50s").unwrap(), 1500.0);
        assert!(parse_duration("3 parsecs").is_err());
    }
}
