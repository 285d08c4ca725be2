//! The stdin/stdout streams: reading line by line, writing stdin in
//! pieces, and reading part of stdout before communicate.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "lines" => {
            let mut p = create_subprocess_exec(
                "sh",
                [
                    "-c",
                    "for i in 1 2 3; do echo line$i; sleep 0.05; done; printf tail",
                ],
                Options::new().stdout(PIPE),
            )
            .unwrap();
            let out = p.stdout.as_mut().unwrap();
            loop {
                let line = out.readline().unwrap();
                if line.is_empty() {
                    break;
                }
                println!("got {:?}", String::from_utf8(line).unwrap());
            }
            println!("eof {}", out.at_eof());
            println!("rc {}", p.wait().unwrap());
        }
        "stdin" => {
            let mut p =
                create_subprocess_exec("wc", ["-l"], Options::new().stdin(PIPE).stdout(PIPE))
                    .unwrap();
            let w = p.stdin.as_mut().unwrap();
            // 1000 lines of 100 bytes: more than a pipe buffer holds.
            let line = [b'x'; 99]
                .iter()
                .copied()
                .chain([b'\n'])
                .collect::<Vec<u8>>();
            for _ in 0..1000 {
                w.write(&line).unwrap();
            }
            w.drain().unwrap();
            w.close();
            let n = p.stdout.as_mut().unwrap().read(-1).unwrap();
            println!("lines {:?}", String::from_utf8(n).unwrap().trim());
            println!("rc {}", p.wait().unwrap());
        }
        "readline-then-communicate" => {
            let mut p = create_subprocess_exec(
                "sh",
                ["-c", "echo first; echo second; echo third"],
                Options::new().stdout(PIPE),
            )
            .unwrap();
            let first = p.stdout.as_mut().unwrap().readline().unwrap();
            println!("first {:?}", String::from_utf8(first).unwrap());
            let (rest, _) = p.communicate(None).unwrap();
            println!("rest {:?}", String::from_utf8(rest.unwrap()).unwrap());
        }
        other => panic!("unknown case {other}"),
    }
}
