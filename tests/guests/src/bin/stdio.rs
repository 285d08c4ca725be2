//! Each stdio mode: inherit, pipe, devnull, stdout-for-stderr, and the
//! invalid combinations.
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell};
use procgate_guest::{Options, DEVNULL, PIPE, STDOUT};

const BOTH: &str = "echo to-out; echo to-err >&2";

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "inherit" => {
            println!("guest before");
            let p = create_subprocess_shell(BOTH, Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "devnull-out" => {
            let mut p =
                create_subprocess_shell(BOTH, Options::new().stdout(DEVNULL).stderr(DEVNULL))
                    .unwrap();
            let (out, err) = p.communicate(None).unwrap();
            println!("out {out:?} err {err:?} rc {:?}", p.returncode());
        }
        "devnull-in" => {
            let mut p =
                create_subprocess_exec("wc", ["-c"], Options::new().stdin(DEVNULL).stdout(PIPE))
                    .unwrap();
            let (out, _) = p.communicate(None).unwrap();
            println!(
                "count {:?}",
                String::from_utf8(out.unwrap()).unwrap().trim()
            );
        }
        "inherit-in" => {
            // The guest's stdin is not the host's here: the child reads /dev/null.
            let mut p = create_subprocess_exec("wc", ["-c"], Options::new().stdout(PIPE)).unwrap();
            let (out, _) = p.communicate(None).unwrap();
            println!(
                "count {:?}",
                String::from_utf8(out.unwrap()).unwrap().trim()
            );
        }
        "pipe-both" => {
            let mut p =
                create_subprocess_shell(BOTH, Options::new().stdout(PIPE).stderr(PIPE)).unwrap();
            let (out, err) = p.communicate(None).unwrap();
            println!(
                "out {:?} err {:?}",
                String::from_utf8(out.unwrap()).unwrap(),
                String::from_utf8(err.unwrap()).unwrap()
            );
        }
        "stderr-to-stdout" => {
            let mut p =
                create_subprocess_shell(BOTH, Options::new().stdout(PIPE).stderr(STDOUT)).unwrap();
            let (out, err) = p.communicate(None).unwrap();
            println!(
                "out {:?} err {:?}",
                String::from_utf8(out.unwrap()).unwrap(),
                err
            );
        }
        "invalid" => {
            let e =
                create_subprocess_exec("true", [""; 0], Options::new().stdin(STDOUT)).unwrap_err();
            println!("stdin=STDOUT {e:?}");
            let e =
                create_subprocess_exec("true", [""; 0], Options::new().stdout(STDOUT)).unwrap_err();
            println!("stdout=STDOUT {e:?}");
            let e = create_subprocess_exec("true", [""; 0], Options::new().limit(0)).unwrap_err();
            println!("limit=0 {e:?}");
            let mut p = create_subprocess_exec("true", [""; 0], Options::new()).unwrap();
            // As in asyncio, input is ignored when stdin is not a pipe.
            println!("input without stdin pipe {:?}", p.communicate(Some(b"x")));
            println!("rc {}", p.wait().unwrap());
        }
        other => panic!("unknown case {other}"),
    }
}
