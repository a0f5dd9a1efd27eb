//! Opus packet arithmetic: the duration of inbound packets, and the outbound reply frames.

use std::time::Duration;

/// One 20 ms CELT fullband frame of silence (TOC `0xF8`: config 31, one frame).
pub const SILENCE_FRAME: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// Duration of every outbound frame.
pub const FRAME: Duration = Duration::from_millis(20);
/// RTP ticks (48 kHz) per outbound frame.
pub const FRAME_TICKS: u64 = 960;

/// Audio carried by one Opus packet in microseconds (RFC 6716 §3.1), 0 for an empty or
/// malformed packet.
pub fn opus_packet_micros(packet: &[u8]) -> u64 {
    let Some(&toc) = packet.first() else { return 0 };
    let config = toc >> 3;
    let frame_us: u64 = match config {
        0..=11 => [10_000, 20_000, 40_000, 60_000][usize::from(config % 4)],
        12..=15 => [10_000, 20_000][usize::from(config % 2)],
        _ => [2_500, 5_000, 10_000, 20_000][usize::from(config % 4)],
    };
    let frames = match toc & 0x3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |b| u64::from(b & 0x3F)),
    };
    frame_us * frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_toc_byte() {
        assert_eq!(opus_packet_micros(&SILENCE_FRAME), 20_000);
        // SILK wideband 60 ms, one frame.
        assert_eq!(opus_packet_micros(&[11 << 3]), 60_000);
        // Hybrid fullband 10 ms, two frames (code 1).
        assert_eq!(opus_packet_micros(&[(14 << 3) | 1, 0]), 20_000);
        // CELT 2.5 ms, code 3 with 6 frames.
        assert_eq!(opus_packet_micros(&[(16 << 3) | 3, 6]), 15_000);
    }

    #[test]
    fn malformed_packets_carry_no_audio() {
        assert_eq!(opus_packet_micros(&[]), 0);
        assert_eq!(opus_packet_micros(&[(16 << 3) | 3]), 0);
    }
}
