//! A guest whose requests the audit log must record, flood-proof and
//! unforgeable: a flood of oversized denied requests, names with newlines,
//! and one child of each fate (exit, timeout, failure to start, secret
//! variable).
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{HostError as Error, Options, PIPE};

fn kind(e: &Error) -> &'static str {
    match e {
        Error::Denied(_) => "denied",
        Error::LimitExceeded(_) => "limit-exceeded",
        Error::NotFound(_) => "not-found",
        Error::InvalidArgument(_) => "invalid-argument",
        _ => "other",
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let case = args.get(1).map(String::as_str).unwrap_or_default();
    match case {
        // N requests of a program the policy does not allow, each with ten
        // 1 MiB arguments: refused by size before anything else.
        "flood" => {
            let n: usize = args[2].parse().unwrap();
            let big = "x".repeat(1 << 20);
            let mut kinds = std::collections::BTreeMap::new();
            for _ in 0..n {
                let e = create_subprocess_exec("sh", vec![big.as_str(); 10], Options::new())
                    .map(|_| ())
                    .unwrap_err();
                *kinds.entry(kind(&e)).or_insert(0) += 1;
            }
            println!("{kinds:?}");
        }
        // Names that would forge a line in a text log.
        "forge" => {
            let forged = "LD_X\n WARN refused exec \"forged\": denied";
            let e = create_subprocess_exec("true", [""; 0], Options::new().env(forged, "1"))
                .map(|_| ())
                .unwrap_err();
            println!("env {}", kind(&e));
            let e = create_subprocess_exec(
                "true\n INFO allowed exec \"forged\"",
                [""; 0],
                Options::new(),
            )
            .map(|_| ())
            .unwrap_err();
            println!("program {}", kind(&e));
        }
        // One child of each fate; argv[2] is a program that fails to start.
        "lifecycle" => {
            let p = create_subprocess_exec("true", ["a b", "[\"c\"]"], Options::new()).unwrap();
            println!("true pid {} rc {}", p.pid(), p.wait().unwrap());
            let mut p = create_subprocess_exec(
                "env",
                [""; 0],
                Options::new()
                    .stdout(PIPE)
                    .env("TOKEN", "hunter2")
                    .env("NAME", "x"),
            )
            .unwrap();
            let (out, _) = p.communicate(None).unwrap();
            let out = String::from_utf8(out.unwrap()).unwrap();
            println!(
                "env pid {} sees token {}",
                p.pid(),
                out.contains("TOKEN=hunter2")
            );
            let p = create_subprocess_exec("sleep", ["10"], Options::new()).unwrap();
            println!("sleep pid {} rc {}", p.pid(), p.wait().unwrap());
            let e = create_subprocess_exec(&args[2], [""; 0], Options::new())
                .map(|_| ())
                .unwrap_err();
            println!("broken {}", kind(&e));
            // The same two through the async face, whose creates the host
            // starts in a task (`start-subprocess-exec`): the task logs.
            procgate_guest::aio::run(async {
                let p =
                    procgate_guest::aio::create_subprocess_exec("true", ["aio"], Options::new())
                        .await
                        .unwrap();
                println!("aio-true pid {} rc {:?}", p.pid(), p.wait().await);
                let e =
                    procgate_guest::aio::create_subprocess_exec(&args[2], [""; 0], Options::new())
                        .await
                        .map(|_| ())
                        .unwrap_err();
                println!("aio-broken {}", kind(&e));
            })
            .unwrap();
            let e = create_subprocess_exec("sh", [""; 0], Options::new())
                .map(|_| ())
                .unwrap_err();
            println!("sh {}", kind(&e));
        }
        other => panic!("unknown case {other}"),
    }
}
