//! What a guest file says about itself, read without compiling it: its
//! declared capabilities (the custom section [`SECTION`]), its WIT imports
//! and exports, and whether it is a command.
//!
//! A Rust guest built for `wasm32-wasip2` writes the section (with
//! `procgate_guest::declare!`) into its core module, which the component
//! embeds; `procgate declare` appends it at the component's top level.
//! The reader looks in both places: every custom section of that name,
//! at any depth, in file order.

use procgate_policy::{Declaration, MAX_DECLARATION_BYTES};
use wasmparser::{Chunk, Parser, Payload};

/// The name of the custom section that holds a guest's declaration: the
/// text of a policy file (TOML, UTF-8).
pub const SECTION: &str = "procgate:capabilities";

/// A component as [`read`] sees it.
#[derive(Debug, Default)]
pub struct GuestFile {
    /// The declaration's text: every [`SECTION`] joined by newlines; `None`
    /// when there is none.
    pub declaration: Option<String>,
    /// The component's top-level import names (`wasi:cli/stdout@0.2.6`).
    pub imports: Vec<String>,
    /// The component's top-level export names (`wasi:cli/run@0.2.6`).
    pub exports: Vec<String>,
}

impl GuestFile {
    /// Whether the component is a command: it exports `wasi:cli/run`.
    pub fn is_command(&self) -> bool {
        self.exports
            .iter()
            .any(|name| name == "wasi:cli/run" || name.starts_with("wasi:cli/run@"))
    }

    /// The declaration parsed (`None` without one); `name` (the guest's
    /// file) is used in error messages.
    pub fn parsed(&self, name: &str) -> anyhow::Result<Option<Declaration>> {
        let Some(text) = &self.declaration else {
            return Ok(None);
        };
        Ok(Some(Declaration::parse(
            text,
            &format!("{name} [{SECTION}]"),
        )?))
    }
}

/// Reads a component's declaration, imports and exports. Fails on a file
/// that is not a well-formed component, on a declaration that is not
/// UTF-8, and on declarations longer than [`MAX_DECLARATION_BYTES`] in all.
/// Code sections are skipped unread (a Python guest's are most of its
/// 20 MB).
pub fn read(bytes: &[u8]) -> anyhow::Result<GuestFile> {
    let mut file = GuestFile::default();
    let mut sections: Vec<&str> = Vec::new();
    let mut size = 0usize;
    // The parsers of the enclosing modules and components; the top level
    // has none.
    let mut stack: Vec<Parser> = Vec::new();
    let mut parser = Parser::new(0);
    let mut data = bytes;
    loop {
        let (payload, consumed) = match parser.parse(data, true)? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => anyhow::bail!("the file ends too early"),
        };
        data = &data[consumed..];
        let top = stack.is_empty();
        match payload {
            Payload::CodeSectionStart { size: code, .. } => {
                parser.skip_section();
                data = data
                    .get(code as usize..)
                    .ok_or_else(|| anyhow::anyhow!("a code section runs past the end"))?;
            }
            Payload::ModuleSection { parser: inner, .. }
            | Payload::ComponentSection { parser: inner, .. } => {
                stack.push(std::mem::replace(&mut parser, inner));
            }
            Payload::End(_) => match stack.pop() {
                Some(outer) => parser = outer,
                None => break,
            },
            Payload::CustomSection(section) if section.name() == SECTION => {
                size += section.data().len();
                anyhow::ensure!(
                    size <= MAX_DECLARATION_BYTES,
                    "the {SECTION} sections take more than {MAX_DECLARATION_BYTES} bytes"
                );
                let text = std::str::from_utf8(section.data())
                    .map_err(|e| anyhow::anyhow!("the {SECTION} section is not UTF-8: {e}"))?;
                sections.push(text);
            }
            Payload::ComponentImportSection(imports) if top => {
                for import in imports {
                    file.imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(exports) if top => {
                for export in exports {
                    file.exports.push(export?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    if !sections.is_empty() {
        file.declaration = Some(sections.join("\n"));
    }
    Ok(file)
}

/// `wasm` with a top-level custom section [`SECTION`] holding `text`
/// appended (a custom section may come anywhere, in a component as in a
/// core module). `text` must parse as a [`Declaration`].
pub fn append(wasm: &[u8], text: &str) -> anyhow::Result<Vec<u8>> {
    Declaration::parse(text, "the declaration")?;
    anyhow::ensure!(
        wasm.len() >= 8 && wasm[..4] == *b"\0asm",
        "not a WebAssembly file"
    );
    anyhow::ensure!(
        read(wasm)?.declaration.is_none(),
        "it already has a {SECTION} section (declare once, from the original build)"
    );
    let mut payload = Vec::new();
    leb128(&mut payload, SECTION.len());
    payload.extend_from_slice(SECTION.as_bytes());
    payload.extend_from_slice(text.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0); // custom section id
    leb128(&mut out, payload.len());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Unsigned LEB128, as sizes are written in a WebAssembly binary.
fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
