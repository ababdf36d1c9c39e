/// The dashboard's files, compiled into the binary by SwiftPM (`embedInCode`).
enum DashboardAssets {
    static var login: [UInt8] { PackageResources.login_html }
    static var index: [UInt8] { PackageResources.index_html }
    static var script: [UInt8] { PackageResources.app_js }
    static var styles: [UInt8] { PackageResources.app_css }
}
