//! What code written against `tokio::process::Command` does, with only the
//! `use` lines changed: `command_async <case>`.

// use tokio::process::Command;
// use tokio::io::{AsyncReadExt, AsyncWriteExt};
use procgate_guest::futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
use procgate_guest::process::Stdio;
use procgate_guest::tokio_process::Command;

async fn main_async(case: &str) -> std::io::Result<()> {
    match case {
        "output" => {
            let out = Command::new("echo").arg("hello").output().await?;
            println!(
                "status {} stdout {:?}",
                out.status,
                String::from_utf8_lossy(&out.stdout)
            );
            let status = Command::new("sh").args(["-c", "exit 4"]).status().await?;
            println!("status code {:?}", status.code());
        }
        "pipes" => {
            // A child that reads nothing for a while: what is written
            // waits in the pipe and the host, and close must send it all.
            let mut child = Command::new("sh")
                .args(["-c", "sleep 1; exec cat"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            // More than a pipe holds: writing and reading must overlap.
            let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let writer = async {
                stdin.write_all(&data).await?;
                stdin.flush().await?;
                stdin.close().await
            };
            let mut back = Vec::new();
            let reader = stdout.read_to_end(&mut back);
            let (w, r) = procgate_guest::aio::zip(writer, reader).await;
            w?;
            println!("echoed {} bytes, same {}", r?, back == data);
            println!("id before wait {}", child.id().is_some());
            println!("wait {}", child.wait().await?);
            println!("id after wait {:?}", child.id());
        }
        "lines" => {
            let mut child = Command::new("printf")
                .arg("x\\ny\\n")
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = child.stdout.take().unwrap();
            let lines: Vec<String> = procgate_guest::futures_lite::io::BufReader::new(stdout)
                .lines()
                .map(Result::unwrap)
                .collect()
                .await;
            println!("lines {lines:?}");
            child.wait().await?;
        }
        "kill" => {
            let mut child = Command::new("sleep").arg("60").kill_on_drop(true).spawn()?;
            println!("try_wait {:?}", child.try_wait()?);
            child.kill().await?;
            println!("after kill {:?}", child.try_wait()?.map(|s| s.to_string()));
        }
        "wait_with_output" => {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            child.stdin.as_mut().unwrap().write_all(b"abc").await?;
            let out = child.wait_with_output().await?;
            println!("{:?} {}", String::from_utf8_lossy(&out.stdout), out.status);
        }
        "denied" => {
            let e = Command::new("rm").output().await.unwrap_err();
            println!("kind {:?} {e}", e.kind());
        }
        other => panic!("unknown case {other}"),
    }
    Ok(())
}

fn main() {
    let case = std::env::args()
        .nth(1)
        .expect("usage: command_async <case>");
    procgate_guest::aio::run(main_async(&case))
        .expect("the outermost aio::run")
        .unwrap();
}
