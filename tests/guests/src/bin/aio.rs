//! The async face: gather over several processes, exit pollables, the
//! non-blocking communicate.
use procgate_guest::aio::{self, create_subprocess_exec, create_subprocess_shell};
use procgate_guest::{Options, PIPE};

async fn timed(cmd: &str) -> String {
    let mut p = create_subprocess_shell(cmd, Options::new().stdout(PIPE))
        .await
        .unwrap();
    let (out, _) = p.communicate(None).await.unwrap();
    format!(
        "{}|rc={}",
        String::from_utf8(out.unwrap()).unwrap().trim(),
        p.returncode().unwrap()
    )
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    aio::run(async {
        match case.as_str() {
            "gather" => {
                // Each child prints its start and end time (ns); the host
                // checks they overlap.
                let cmds: Vec<String> = (0..3)
                    .map(|i| format!("date +%s%N; sleep 0.5; date +%s%N; exit {i}"))
                    .collect();
                let results = aio::gather(cmds.iter().map(|c| timed(c))).await;
                for r in results {
                    println!("{}", r.replace('\n', " "));
                }
            }
            "wait" => {
                let fast = create_subprocess_exec("sh", ["-c", "exit 4"], Options::new())
                    .await
                    .unwrap();
                let slow = create_subprocess_exec("sleep", ["0.3"], Options::new())
                    .await
                    .unwrap();
                let (a, b) = aio::zip(slow.wait(), fast.wait()).await;
                println!("slow {} fast {}", a.unwrap(), b.unwrap());
            }
            "many" => {
                let n = 50;
                let results = aio::gather((0..n).map(|i| async move {
                    let mut p = create_subprocess_exec(
                        "sh",
                        ["-c", &format!("echo {i}")],
                        Options::new().stdout(PIPE),
                    )
                    .await
                    .unwrap();
                    let (out, _) = p.communicate(None).await.unwrap();
                    String::from_utf8(out.unwrap())
                        .unwrap()
                        .trim()
                        .parse::<u32>()
                        .unwrap()
                }))
                .await;
                println!("sum {}", results.iter().sum::<u32>());
            }
            other => panic!("unknown case {other}"),
        }
    });
}
