//! Copying to the clipboard: one long-lived system clipboard where there is one; otherwise
//! OSC 52, which asks the terminal itself to copy (works over SSH, wrapped for tmux). The
//! result says truthfully which happened — OSC 52 cannot confirm that the terminal obeyed.

use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The system clipboard took it.
    System,
    /// Sent to the terminal with OSC 52; whether it copied depends on the terminal.
    Terminal,
    /// Nothing could be copied.
    Failed,
}

impl CopyOutcome {
    pub fn describe(self, what: &str) -> String {
        match self {
            CopyOutcome::System => format!("Copied {what} to the clipboard."),
            CopyOutcome::Terminal => format!(
                "No system clipboard here: asked the terminal to copy {what} (OSC 52). If your terminal does not support it, nothing was copied."
            ),
            CopyOutcome::Failed => format!("Could not copy {what}: no clipboard and no terminal to ask."),
        }
    }
}

pub struct Clipboard {
    system: Option<arboard::Clipboard>,
}

impl Clipboard {
    pub fn new() -> Clipboard {
        Clipboard {
            system: arboard::Clipboard::new().ok(),
        }
    }

    pub fn copy(&mut self, text: &str) -> CopyOutcome {
        if let Some(system) = self.system.as_mut() {
            if system.set_text(text.to_string()).is_ok() {
                return CopyOutcome::System;
            }
        }
        let sequence = osc52(text, std::env::var_os("TMUX").is_some());
        let mut out = std::io::stdout();
        match out.write_all(sequence.as_bytes()).and_then(|_| out.flush()) {
            Ok(()) => CopyOutcome::Terminal,
            Err(_) => CopyOutcome::Failed,
        }
    }
}

impl Default for Clipboard {
    fn default() -> Self {
        Clipboard::new()
    }
}

/// The OSC 52 "set clipboard" sequence. Inside tmux it is sent twice: plain, which tmux takes
/// when `set-clipboard` is on, and wrapped in a DCS passthrough, which reaches the outer
/// terminal when `allow-passthrough` is on; tmux drops whichever it is not set up for.
pub fn osc52(text: &str, in_tmux: bool) -> String {
    let payload = format!("\x1b]52;c;{}\x07", base64(text.as_bytes()));
    if in_tmux {
        format!("{payload}\x1bPtmux;{}\x1b\\", payload.replace('\x1b', "\x1b\x1b"))
    } else {
        payload
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn osc52_is_wrapped_for_tmux() {
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert_eq!(
            osc52("hi", true),
            "\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }
}
