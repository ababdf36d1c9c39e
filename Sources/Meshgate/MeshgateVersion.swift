/// The release this build is, for `meshgate --version`, the startup log and outgoing User-Agents.
public enum MeshgateVersion {
    public static let string = "0.1.0"
}
