//! Identifiers made from random bytes. Pure: the driver draws the bytes from a secure source
//! (`crypto.getRandomValues`) and these functions only format them.

/// Formats 16 random bytes as a version-4 UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
#[must_use]
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// `prefix-` followed by 8 random bytes in lowercase hex (`kiosk-0123456789abcdef`): call and
/// client ids. Of `A-Z a-z 0-9 -` when the prefix is.
#[must_use]
pub fn prefixed_id(prefix: &str, bytes: [u8; 8]) -> String {
    format!("{prefix}-{}", hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn prefixed_ids_are_the_prefix_and_16_hex_digits() {
        assert_eq!(prefixed_id("kiosk", [0; 8]), "kiosk-0000000000000000");
        assert_eq!(
            prefixed_id("kds-grill", [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
            "kds-grill-0123456789abcdef"
        );
    }
}
