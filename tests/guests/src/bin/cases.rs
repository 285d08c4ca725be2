//! The cross-language cases, in Rust: the same cases, printing the same
//! lines, as `tests/cross_language/cases.{py,js,c}` (the table of expected
//! output is in `tests/tests/guests/languages.rs`). `argv[1]` names the
//! case; `gather` takes a FIFO's path in `argv[2]`.
use std::process::ExitCode;

use procgate_guest::aio::{create_subprocess_exec, create_subprocess_shell, gather, run};
use procgate_guest::{Error, HostError, Options, Result, PIPE};

/// Text with its newlines shown as `\n`, as every language prints it.
fn shown(data: &[u8]) -> String {
    String::from_utf8_lossy(data).replace('\n', "\\n")
}

/// Prints a denial (the language's native error for it), or fails.
fn denied(result: Result<()>) -> Result<()> {
    match result {
        Err(Error::Host(HostError::Denied(rule))) => {
            println!("denied: {rule}");
            Ok(())
        }
        other => other,
    }
}

async fn exec() -> Result<()> {
    let mut proc =
        create_subprocess_exec("echo", ["hello from exec"], Options::new().stdout(PIPE)).await?;
    let (stdout, _) = proc.communicate(None).await?;
    println!("stdout: {}", shown(&stdout.unwrap_or_default()));
    println!("returncode: {}", proc.returncode().unwrap());
    Ok(())
}

async fn shell() -> Result<()> {
    let mut proc =
        create_subprocess_shell("echo hello from the shell", Options::new().stdout(PIPE)).await?;
    let (stdout, _) = proc.communicate(None).await?;
    println!("stdout: {}", shown(&stdout.unwrap_or_default()));
    println!("returncode: {}", proc.returncode().unwrap());
    Ok(())
}

async fn denied_program() -> Result<()> {
    let proc = create_subprocess_exec("cat", ["/etc/hostname"], Options::new()).await?;
    println!("started {}", proc.pid());
    Ok(())
}

async fn communicate() -> Result<()> {
    let mut proc =
        create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE)).await?;
    let (stdout, _) = proc.communicate(Some(b"one\ntwo\n")).await?;
    println!("stdout: {}", shown(&stdout.unwrap_or_default()));
    println!("returncode: {}", proc.returncode().unwrap());
    Ok(())
}

const LINES: &str = "import time\nfor word in ['alpha', 'beta', 'gamma']:\n    print(word, flush=True)\n    time.sleep(0.05)\n";

async fn readline() -> Result<()> {
    let mut proc =
        create_subprocess_exec("python3", ["-c", LINES], Options::new().stdout(PIPE)).await?;
    let stdout = proc.stdout.as_mut().unwrap();
    loop {
        let line = stdout.readline().await?;
        if line.is_empty() {
            break;
        }
        println!("line: {}", shown(&line));
    }
    println!("eof");
    println!("returncode: {}", proc.wait().await?);
    Ok(())
}

async fn kill() -> Result<()> {
    let proc = create_subprocess_exec("sleep", ["60"], Options::new()).await?;
    proc.kill()?;
    println!("returncode: {}", proc.wait().await?);
    match proc.kill() {
        Err(HostError::ProcessExited) => println!("kill after exit: process exited"),
        other => println!("kill after exit: {other:?}"),
    }
    Ok(())
}

async fn run_shell(cmd: String) -> Result<String> {
    let mut proc = create_subprocess_shell(&cmd, Options::new().stdout(PIPE)).await?;
    let (stdout, _) = proc.communicate(None).await?;
    Ok(format!(
        "returncode {}: {}",
        proc.returncode().unwrap(),
        shown(&stdout.unwrap_or_default())
    ))
}

async fn gather_case(fifo: &str) -> Result<()> {
    // The first can only finish once the second runs: run one after the
    // other, they would wait for each other forever.
    let cmds = [
        format!("echo ping > {fifo}; echo a done"),
        format!("read line < {fifo}; echo \"b got $line\""),
    ];
    for (i, result) in gather(cmds.map(run_shell)).await.into_iter().enumerate() {
        println!("[{i}] {}", result?);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let case = args.get(1).map(String::as_str).unwrap_or("");
    let result = run(async {
        match case {
            "exec" => exec().await,
            "shell" => denied(shell().await),
            "denied" => denied(denied_program().await),
            "communicate" => communicate().await,
            "readline" => readline().await,
            "kill" => kill().await,
            "gather" => gather_case(&args[2]).await,
            other => {
                println!("unknown case {other}");
                Err(HostError::InvalidArgument(other.into()).into())
            }
        }
    })
    .expect("the outermost aio::run");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
