//! Lines read from standard input or the terminal, each held to a bound whatever is sent.

use std::io::BufRead;

/// A line read with [`read_bounded_line`].
pub enum Line {
    /// Its bytes, without the line break.
    Read(Vec<u8>),
    /// It ran past the bound; the whole of it was read and dropped.
    TooLong,
}

/// Reads up to the next line break, holding at most `max` bytes of it: a longer line is read to
/// its end and dropped, so the next question starts on the next line. `None` at end of input.
pub fn read_bounded_line(input: &mut impl BufRead, max: usize) -> std::io::Result<Option<Line>> {
    let mut kept = Vec::new();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, ends_line) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..at], true),
            None => (buffer, false),
        };
        // One byte more than `max` for the carriage return of a CRLF, stripped below.
        if kept.len() + chunk.len() > max + 1 {
            too_long = true;
        } else if !too_long {
            kept.extend_from_slice(chunk);
        }
        let used = chunk.len() + usize::from(ends_line);
        input.consume(used);
        if ends_line {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    if kept.last() == Some(&b'\r') {
        kept.pop();
    }
    if too_long || kept.len() > max {
        return Ok(Some(Line::TooLong));
    }
    Ok(Some(Line::Read(kept)))
}
