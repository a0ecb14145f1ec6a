//! The command-line tool: reads files, directories or standard input, runs the core's
//! `analyze`, prints a rendering and exits 0 (no error finding), 1 (error findings) or 2
//! (unusable input or arguments). All analysis lives in the library.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ambient_netpol::{Options, Source, analyze, report};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "ambient-netpol",
    version,
    about = "Finds the Kubernetes NetworkPolicies that break Istio ambient mode (HBONE port 15008, \
             kubelet probe SNAT) before you enroll workloads"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check manifests and report findings (exit 0: no errors, 1: errors, 2: unusable input).
    Check {
        /// Files or directories (*.yaml, *.yml, *.json below them); none or `-` reads stdin.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// An input the user named, read into memory.
struct Input {
    name: String,
    text: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // clap exits 0 for --help / --version and 2 for usage errors, as the contract wants.
            return ExitCode::from(err.exit_code() as u8);
        }
    };
    match cli.command {
        Command::Check { paths, format } => check(&paths, format),
    }
}

fn check(paths: &[PathBuf], format: Format) -> ExitCode {
    let inputs = match read_inputs(paths) {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("ambient-netpol: {message}");
            return ExitCode::from(2);
        }
    };
    let sources: Vec<Source> = inputs
        .iter()
        .map(|i| Source {
            name: &i.name,
            text: &i.text,
        })
        .collect();
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let result = analyze(&sources, &Options::default());
    let out = match format {
        Format::Text => report::text(&result, &names),
        Format::Json => report::json(&result, &names),
    };
    print_quietly(&out);
    ExitCode::from(if result.has_errors() { 1 } else { 0 })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
fn print_quietly(text: &str) {
    let mut stdout = io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && err.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("ambient-netpol: cannot write output: {err}");
    }
}

fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    if paths.is_empty() {
        return Ok(vec![read_stdin()?]);
    }
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(read_stdin()?);
        } else if path.is_dir() {
            let mut files = Vec::new();
            collect_manifests(path, &mut files)?;
            if files.is_empty() {
                return Err(format!(
                    "{}: no *.yaml, *.yml or *.json file in this directory",
                    path.display()
                ));
            }
            files.sort();
            for file in files {
                inputs.push(read_file(&file)?);
            }
        } else {
            inputs.push(read_file(path)?);
        }
    }
    Ok(inputs)
}

fn collect_manifests(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if file_type.is_dir() {
            collect_manifests(&path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Input, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let name = path.display().to_string();
    let text = utf8(bytes, &name)?;
    Ok(Input { name, text })
}

fn read_stdin() -> Result<Input, String> {
    let mut bytes = Vec::new();
    io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("standard input: cannot read: {e}"))?;
    let name = "<stdin>".to_string();
    let text = utf8(bytes, &name)?;
    Ok(Input { name, text })
}

fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{name}:{line}: not UTF-8 text (Kubernetes manifests must be UTF-8)")
    })
}
