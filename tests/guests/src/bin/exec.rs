//! create-subprocess-exec: pid, returncode, communicate with and without
//! input, wait.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "echo" => {
            let mut p =
                create_subprocess_exec("echo", ["hello", "world"], Options::new().stdout(PIPE))
                    .unwrap();
            assert!(p.pid() > 0);
            println!("pid {}", p.pid());
            let (out, err) = p.communicate(None).unwrap();
            println!("stdout {:?}", String::from_utf8(out.unwrap()).unwrap());
            println!("stderr {:?}", err);
            println!("returncode {:?}", p.returncode());
            println!("wait {}", p.wait().unwrap());
        }
        "cat" => {
            let mut p =
                create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE))
                    .unwrap();
            let (out, _) = p.communicate(Some(b"some data")).unwrap();
            println!("stdout {:?}", String::from_utf8(out.unwrap()).unwrap());
            println!("returncode {:?}", p.returncode());
        }
        "wait" => {
            let p =
                create_subprocess_exec("sh", ["-c", "sleep 0.2; exit 3"], Options::new()).unwrap();
            println!("before {:?}", p.returncode());
            println!("wait {}", p.wait().unwrap());
            println!("after {:?}", p.returncode());
            println!("again {}", p.wait().unwrap());
        }
        other => panic!("unknown case {other}"),
    }
}
