//! Host-side pipelines: one process's stdout as the next one's stdin.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, DEVNULL, PIPE};

fn text(bytes: Option<Vec<u8>>) -> String {
    String::from_utf8(bytes.unwrap()).unwrap()
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "bytes" => {
            let head = create_subprocess_exec(
                "head",
                ["-c", "3000000", "/dev/zero"],
                Options::new().stdout(PIPE),
            )
            .unwrap();
            let mut wc =
                create_subprocess_exec("wc", ["-c"], Options::new().stdin_from(&head).stdout(PIPE))
                    .unwrap();
            let (out, _) = wc.communicate(None).unwrap();
            println!("wc {:?} head {}", text(out).trim(), head.wait().unwrap());
        }
        // Each child names the pipe it writes to / reads from (on stderr;
        // from a subshell, as dash redirects a plain command's descriptors
        // in the shell itself): the same pipe, from one child to the next,
        // never through this guest.
        "same-pipe" => {
            let mut first = create_subprocess_exec(
                "sh",
                [
                    "-c",
                    "(readlink /proc/$$/fd/1) >&2; head -c 3000000 /dev/zero",
                ],
                Options::new().stdout(PIPE).stderr(PIPE),
            )
            .unwrap();
            let mut second = create_subprocess_exec(
                "sh",
                ["-c", "(readlink /proc/$$/fd/0) >&2; wc -c"],
                Options::new().stdin_from(&first).stdout(PIPE).stderr(PIPE),
            )
            .unwrap();
            let (out, err) = second.communicate(None).unwrap();
            let (_, first_err) = first.communicate(None).unwrap();
            let writes = text(first_err);
            let reads = text(err);
            println!(
                "wc {:?} rcs {} {}",
                text(out).trim(),
                first.returncode().unwrap(),
                second.returncode().unwrap()
            );
            println!(
                "a pipe {} the same {}",
                writes.starts_with("pipe:["),
                writes == reads
            );
        }
        "three" => {
            let printf =
                create_subprocess_exec("printf", ["b\\na\\nc\\n"], Options::new().stdout(PIPE))
                    .unwrap();
            let sort = create_subprocess_exec(
                "sort",
                [""; 0],
                Options::new().stdin_from(&printf).stdout(PIPE),
            )
            .unwrap();
            let mut head = create_subprocess_exec(
                "head",
                ["-n", "1"],
                Options::new().stdin_from(&sort).stdout(PIPE),
            )
            .unwrap();
            let (out, _) = head.communicate(None).unwrap();
            println!("first {:?}", text(out));
            println!(
                "rcs {} {} {}",
                printf.wait().unwrap(),
                sort.wait().unwrap(),
                head.returncode().unwrap()
            );
        }
        "denied" => {
            // The policy refuses the second program: the first keeps its pipe.
            let mut echo =
                create_subprocess_exec("echo", ["hello"], Options::new().stdout(PIPE)).unwrap();
            let tr = create_subprocess_exec("tr", ["a-z", "A-Z"], Options::new().stdin_from(&echo));
            println!("tr {:?}", tr.map(|_| ()));
            let (out, _) = echo.communicate(None).unwrap();
            println!("echo still has {:?}", text(out));
        }
        "not-piped" => {
            let echo =
                create_subprocess_exec("echo", ["hello"], Options::new().stdout(DEVNULL)).unwrap();
            let wc = create_subprocess_exec("wc", ["-c"], Options::new().stdin_from(&echo));
            println!("wc {:?}", wc.map(|_| ()));
            // Used once: a second consumer of the same pipe is refused.
            let echo =
                create_subprocess_exec("echo", ["hello"], Options::new().stdout(PIPE)).unwrap();
            let mut first =
                create_subprocess_exec("wc", ["-c"], Options::new().stdin_from(&echo).stdout(PIPE))
                    .unwrap();
            let second = create_subprocess_exec("wc", ["-c"], Options::new().stdin_from(&echo));
            println!("second {:?}", second.map(|_| ()));
            let (out, _) = first.communicate(None).unwrap();
            println!("first {:?}", text(out).trim());
        }
        other => panic!("unknown case {other}"),
    }
}
