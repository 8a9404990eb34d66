import Crypto
import UpdatePolicy

/// This node's identity in a fleet lock when the policy names none: derived from
/// /etc/machine-id for updatectl alone, as systemd's `sd_id128_get_machine_app_specific` does
/// (and Zincati, with its own application id): the machine id itself is not given out, and the id
/// is stable for the machine's life.
public enum FleetIdentity {
    /// updatectl's application id.
    public static let applicationID = "8659af410c04477ca003a997eb6ff62c"

    /// HMAC-SHA256 keyed with the machine id over the application id, its first 16 bytes made a
    /// version 4 UUID, in 32 lowercase hex digits (what `systemd-id128 machine-id
    /// --app-specific=…` prints).
    public static func appSpecific(machineID: String, applicationID: String = applicationID) throws(FleetError) -> String {
        guard let machine = Hex.decode(machineID.trimmingSpaces), machine.count == 16 else {
            throw FleetError("the machine id \(machineID.prefix(40)) is not 32 hex digits: set the fleet lock's `id` or `id_file`")
        }
        guard let application = Hex.decode(applicationID), application.count == 16 else {
            throw FleetError("the application id is not 32 hex digits")
        }
        var id = Array(HMAC<SHA256>.authenticationCode(for: application, using: SymmetricKey(data: machine)).prefix(16))
        id[6] = (id[6] & 0x0F) | 0x40
        id[8] = (id[8] & 0x3F) | 0x80
        return Hex.encode(id)
    }
}
