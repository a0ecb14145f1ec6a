//! The command-line tool: reads files, directories or standard input, runs the core's
//! `analyze`, prints a rendering and exits 0 (no error finding), 1 (error findings) or 2
//! (unusable input or arguments). All analysis lives in the library.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ambient_netpol::netpol::conn::Protocol;
use ambient_netpol::netpol::connectivity::connectivity;
use ambient_netpol::netpol::eval::{Endpoint, Engine, HostNetwork};
use ambient_netpol::{Options, Source, analyze, load, report};
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
        #[command(flatten)]
        common: Common,
    },
    /// List every allowed (source, destination) pair between workloads and IP ranges.
    Connectivity {
        #[command(flatten)]
        common: Common,
    },
    /// Explain the verdict for one source and destination: the policies and rules behind it.
    Explain {
        /// Source: a workload as namespace/name, or an IP address.
        #[arg(long)]
        from: String,
        /// Destination: a workload as namespace/name, or an IP address.
        #[arg(long)]
        to: String,
        /// A port to judge, as 9090/TCP (protocol defaults to TCP).
        #[arg(long)]
        port: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// Settings shared by every command.
#[derive(clap::Args)]
struct Common {
    /// Files or directories (*.yaml, *.yml, *.json below them); none or `-` reads stdin.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Whether NetworkPolicies apply to hostNetwork pods: `node` (most CNIs: their traffic is
    /// the node's) or `pod` (CNIs that tell them apart). Kubernetes allows both.
    #[arg(long, value_enum, default_value_t = HostNetworkArg::Node)]
    host_network: HostNetworkArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum HostNetworkArg {
    Node,
    Pod,
}

impl From<HostNetworkArg> for HostNetwork {
    fn from(arg: HostNetworkArg) -> Self {
        match arg {
            HostNetworkArg::Node => HostNetwork::Node,
            HostNetworkArg::Pod => HostNetwork::Pod,
        }
    }
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
    let result = match cli.command {
        Command::Check { common } => check(&common),
        Command::Connectivity { common } => connectivity_map(&common),
        Command::Explain {
            from,
            to,
            port,
            common,
        } => explain(&common, &from, &to, port.as_deref()),
    };
    result.unwrap_or_else(|message| {
        eprintln!("ambient-netpol: {message}");
        ExitCode::from(2)
    })
}

fn sources(inputs: &[Input]) -> Vec<Source<'_>> {
    inputs
        .iter()
        .map(|i| Source {
            name: &i.name,
            text: &i.text,
        })
        .collect()
}

fn check(common: &Common) -> Result<ExitCode, String> {
    let inputs = read_inputs(&common.paths)?;
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let options = Options {
        host_network: common.host_network.into(),
    };
    let result = analyze(&sources(&inputs), &options);
    let out = match common.format {
        Format::Text => report::text(&result, &names),
        Format::Json => report::json(&result, &names),
    };
    print_quietly(&out);
    Ok(ExitCode::from(if result.has_errors() { 1 } else { 0 }))
}

/// Input errors do not stop `connectivity` and `explain` (the broken objects are left out), but
/// they are said on stderr so nobody mistakes a partial map for the whole.
fn load_reporting(inputs: &[Input]) -> ambient_netpol::Loaded {
    let loaded = load(&sources(inputs));
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    for finding in loaded
        .findings
        .iter()
        .filter(|f| f.severity == ambient_netpol::Severity::Error)
    {
        let place = finding.location.map_or_else(String::new, |l| {
            format!(
                "{}:{}: ",
                names.get(l.source).copied().unwrap_or("<input>"),
                l.line
            )
        });
        eprintln!(
            "{place}{} {}: {} (left out)",
            finding.code.id(),
            finding.severity.as_str(),
            finding.message
        );
    }
    loaded
}

fn connectivity_map(common: &Common) -> Result<ExitCode, String> {
    let inputs = read_inputs(&common.paths)?;
    let loaded = load_reporting(&inputs);
    let engine = Engine::with(&loaded.cluster, common.host_network.into());
    let connections = connectivity(&engine);
    let out = match common.format {
        Format::Text => report::connectivity_text(&connections),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(&connections)
                .expect("connections serialize infallibly");
            out.push('\n');
            out
        }
    };
    print_quietly(&out);
    Ok(ExitCode::SUCCESS)
}

fn explain(common: &Common, from: &str, to: &str, port: Option<&str>) -> Result<ExitCode, String> {
    let port = port.map(parse_port).transpose()?;
    let inputs = read_inputs(&common.paths)?;
    let loaded = load_reporting(&inputs);
    let engine = Engine::with(&loaded.cluster, common.host_network.into());
    let src = endpoint(&engine, from, "--from")?;
    let dst = endpoint(&engine, to, "--to")?;
    if matches!((src, dst), (Endpoint::Ip(_), Endpoint::Ip(_))) {
        return Err("--from and --to are both IP addresses; NetworkPolicy only governs traffic of pods, so name a workload on at least one side".into());
    }
    let verdict = engine.verdict(src, dst);
    let out = match common.format {
        Format::Text => report::explain_text(&engine, from, to, &verdict, port),
        Format::Json => report::explain_json(&engine, from, to, &verdict, port),
    };
    print_quietly(&out);
    Ok(ExitCode::SUCCESS)
}

fn parse_port(text: &str) -> Result<(Protocol, u16), String> {
    let (number, protocol) = text.split_once('/').unwrap_or((text, "TCP"));
    let protocol = Protocol::parse(&protocol.to_ascii_uppercase())
        .ok_or_else(|| format!("--port {text}: the protocol must be TCP, UDP or SCTP"))?;
    let number = number
        .parse::<u16>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("--port {text}: the port must be a number from 1 to 65535"))?;
    Ok((protocol, number))
}

fn endpoint(engine: &Engine, text: &str, flag: &str) -> Result<Endpoint, String> {
    if let Ok(ip) = text.parse() {
        return Ok(Endpoint::Ip(ip));
    }
    let workloads = &engine.cluster.workloads;
    if let Some(i) = workloads.iter().position(|w| w.qualified_name() == text) {
        return Ok(Endpoint::Workload(i));
    }
    let mut known: Vec<String> = workloads.iter().map(|w| w.qualified_name()).collect();
    known.sort();
    known.dedup();
    let hint = if known.is_empty() {
        "the input has no workloads".to_string()
    } else {
        format!("workloads in the input: {}", known.join(", "))
    };
    Err(format!(
        "{flag} {text}: no such workload (write namespace/name or an IP address); {hint}"
    ))
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
