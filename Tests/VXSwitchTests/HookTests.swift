import Foundation
import VXLabKit
import VXSwitch
import XCTest

/// The hypervisor hooks in packaging/, run for real: libvirt's qemu hook with a domain XML on
/// stdin and Proxmox's hookscript with a VM config, against a running vxsw in a lab (root), or
/// against a stand-in vxsw that records its arguments (no root).
final class HookTests: XCTestCase {
    static let packaging = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../packaging").standardized.path
    static let libvirtHook = packaging + "/libvirt/qemu"
    static let proxmoxHook = packaging + "/proxmox/vxsw-hookscript"

    /// A domain whose interface `tap` (MAC 52:54:00:00:13:13) is mapped to `mapping`
    /// (`vni="1000"`) in vxsw's metadata, or a domain without vxsw metadata.
    static func domainXML(tap: String, mapping: String?) -> String {
        let metadata = mapping.map {
            """
              <metadata>
                <vxsw:ports xmlns:vxsw="https://vxsw.dev/libvirt">
                  <vxsw:port mac="52:54:00:00:13:13" \($0)/>
                </vxsw:ports>
              </metadata>
            """
        } ?? ""
        return """
            <domain type='kvm' id='7'>
              <name>vm13</name>
            \(metadata)
              <devices>
                <interface type='ethernet'>
                  <mac address='52:54:00:00:13:13'/>
                  <target dev='\(tap)' managed='no'/>
                  <model type='virtio'/>
                </interface>
                <interface type='network'>
                  <mac address='52:54:00:00:13:14'/>
                  <source network='default'/>
                  <target dev='vnet9'/>
                </interface>
              </devices>
            </domain>
            """
    }

    /// A Proxmox VM config: net0 on vxsw's VNI 1000, the rest not for vxsw or not supported.
    static let proxmoxConf = """
        boot: order=scsi0;net0
        cores: 2
        memory: 2048
        name: vm13
        net0: virtio=BC:24:11:00:13:13,bridge=vxsw1000
        net1: virtio=BC:24:11:00:13:14,bridge=vmbr0,firewall=1
        net2: virtio=BC:24:11:00:13:15,bridge=vxsw2000,tag=100
        scsi0: local-lvm:vm-4242-disk-0,size=8G

        [before-upgrade]
        net3: virtio=BC:24:11:00:13:16,bridge=vxsw2000
        """

    struct HookResult {
        let status: Int32
        let output: String
        let error: String   // the hooks log here
    }

    /// Runs a hook (in `namespace` when given, as libvirt/Proxmox would on the hypervisor).
    func runHook(_ script: String, _ args: [String], stdin: String = "", environment: [String: String],
                 in namespace: NetworkNamespace? = nil) throws -> HookResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (namespace.map { ["ip", "netns", "exec", $0.name] } ?? []) + [script] + args
        var env = ProcessInfo.processInfo.environment
        env["VXSW_HOOK_CONF"] = "/nonexistent/hooks.conf"   // never the host's settings
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return HookResult(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                          error: String(decoding: errData, as: UTF8.self))
    }

    /// A temporary directory with a stand-in `vxsw` that appends its arguments to `calls`.
    func fakeVXSW() throws -> (dir: String, binary: String, calls: () -> [String]) {
        let dir = NSTemporaryDirectory() + "vxsw-hooktest-\(labTag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let binary = dir + "/vxsw"
        try "#!/bin/sh\necho \"$*\" >> '\(dir)/calls'\necho ok\n".write(toFile: binary, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary)
        return (dir, binary, {
            ((try? String(contentsOfFile: dir + "/calls", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        })
    }

    // MARK: no root

    func testLibvirtHookLeavesAVMWithoutVXSWPortsAlone() throws {
        let fake = try fakeVXSW()
        defer { try? FileManager.default.removeItem(atPath: fake.dir) }
        for operation in ["prepare", "start", "started", "stopped", "release"] {
            let r = try runHook(Self.libvirtHook, ["vm13", operation, "begin", "-"],
                                stdin: Self.domainXML(tap: "tap13", mapping: nil),
                                environment: ["VXSW": fake.binary, "VXSW_HOOK_STRICT": "1"])
            XCTAssertEqual(r.status, 0, "\(operation): \(r.error)")
            XCTAssertEqual(r.error, "", "\(operation): nothing to say")
        }
        XCTAssertEqual(fake.calls(), [], "vxsw is not called")
    }

    func testLibvirtHookMapsByMACToAccessAndTrunkPorts() throws {
        let fake = try fakeVXSW()
        defer { try? FileManager.default.removeItem(atPath: fake.dir) }
        let env = ["VXSW": fake.binary, "VXSW_SOCKET": "/tmp/x.sock"]
        let trunk = Self.domainXML(tap: "tap13", mapping: #"trunk="100=1000,200=2000" native-vni="3000""#)
        XCTAssertEqual(try runHook(Self.libvirtHook, ["vm13", "started", "begin", "-"], stdin: trunk, environment: env).status, 0)
        XCTAssertEqual(try runHook(Self.libvirtHook, ["vm13", "stopped", "end", "-"], stdin: trunk, environment: env).status, 0)
        XCTAssertEqual(try runHook(Self.libvirtHook, ["vm13", "migrate", "begin", "-"], stdin: trunk, environment: env).status, 0)
        XCTAssertEqual(fake.calls(), ["port add tap13 --trunk 100=1000,200=2000 --native-vni 3000 --socket /tmp/x.sock",
                                      "port del tap13 --socket /tmp/x.sock"], "only the mapped interface, only on started/stopped")

        // <port> without the prefix inside <vxsw:ports>, as `virsh metadata --set` writes it.
        let unprefixed = Self.domainXML(tap: "tap13", mapping: #"vni="1000""#).replacingOccurrences(of: "<vxsw:port ", with: "<port ")
        XCTAssertEqual(try runHook(Self.libvirtHook, ["vm13", "started", "begin", "-"], stdin: unprefixed, environment: env).status, 0)
        XCTAssertEqual(fake.calls().last, "port add tap13 --vni 1000 --socket /tmp/x.sock")
    }

    /// vxsw not running: the VM starts anyway (logged), unless VXSW_HOOK_STRICT=1.
    func testHooksWithoutVXSWFailOnlyWhenStrict() throws {
        let binary = try vxswBinary()
        let xml = Self.domainXML(tap: "tap13", mapping: #"vni="1000""#)
        let dir = NSTemporaryDirectory() + "vxsw-hooktest-\(labTag)-strict"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.proxmoxConf.write(toFile: dir + "/4242.conf", atomically: true, encoding: .utf8)
        var env = ["VXSW": binary, "VXSW_SOCKET": dir + "/no-vxsw.sock", "VXSW_PVE_CONF_DIR": dir]

        let lenient = try runHook(Self.libvirtHook, ["vm13", "started", "begin", "-"], stdin: xml, environment: env)
        XCTAssertEqual(lenient.status, 0, lenient.error)
        XCTAssertTrue(lenient.error.contains("port add tap13 --vni 1000") && lenient.error.contains("failed"), lenient.error)
        XCTAssertEqual(try runHook(Self.proxmoxHook, ["4242", "pre-start"], environment: env).status, 0)
        let pveLenient = try runHook(Self.proxmoxHook, ["4242", "post-start"], environment: env)
        XCTAssertEqual(pveLenient.status, 0, pveLenient.error)
        XCTAssertTrue(pveLenient.error.contains("tap4242i0 --vni 1000 failed"), pveLenient.error)

        env["VXSW_HOOK_STRICT"] = "1"
        for op in ["prepare", "started"] {
            let strict = try runHook(Self.libvirtHook, ["vm13", op, "begin", "-"], stdin: xml, environment: env)
            XCTAssertEqual(strict.status, 1, "\(op) fails the start: \(strict.error)")
        }
        let pre = try runHook(Self.proxmoxHook, ["4242", "pre-start"], environment: env)
        XCTAssertEqual(pre.status, 1, pre.error)
        XCTAssertTrue(pre.error.contains("not reachable"), pre.error)
        XCTAssertEqual(try runHook(Self.libvirtHook, ["vm13", "stopped", "end", "-"], stdin: xml, environment: env).status, 0,
                       "a stop never fails")
        XCTAssertEqual(try runHook(Self.proxmoxHook, ["4242", "post-stop"], environment: env).status, 0)
    }

    func testProxmoxHookscriptTakesOnlyTheCurrentVXSWBridges() throws {
        let fake = try fakeVXSW()
        defer { try? FileManager.default.removeItem(atPath: fake.dir) }
        try Self.proxmoxConf.write(toFile: fake.dir + "/4242.conf", atomically: true, encoding: .utf8)
        let env = ["VXSW": fake.binary, "VXSW_PVE_CONF_DIR": fake.dir]
        for phase in ["pre-start", "post-start", "pre-stop", "post-stop"] {
            let r = try runHook(Self.proxmoxHook, ["4242", phase], environment: env)
            XCTAssertEqual(r.status, 0, "\(phase): \(r.error)")
            if phase == "post-start" { XCTAssertTrue(r.error.contains("net2: tag= not supported"), r.error) }
        }
        XCTAssertEqual(fake.calls(), ["port add tap4242i0 --vni 1000", "port del tap4242i0"],
                       "net0 only: net1 is not on a vxsw bridge, net2 has a tag, net3 is in a snapshot")
        XCTAssertEqual(try runHook(Self.proxmoxHook, ["4243", "post-stop"], environment: env).status, 0, "no config: nothing to do")
    }

    // MARK: root: against a running vxsw

    /// libvirt starts the VM twice (idempotent) and stops it: attached with VNI 1000 and
    /// switching, then detached.
    func testLibvirtHookAttachesAndDetachesALabVM() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let lab = try RunningLab(tag: "hl")
        defer { lab.close() }
        let vm13 = try lab.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        let env = ["VXSW": try vxswBinary(), "VXSW_SOCKET": lab.scenario.controlSocket]
        let xml = Self.domainXML(tap: "tap13", mapping: #"vni="1000""#)

        let started = try runHook(Self.libvirtHook, ["vm13", "started", "begin", "-"], stdin: xml, environment: env, in: lab.lab.hv1)
        XCTAssertEqual(started.status, 0, started.error)
        XCTAssertEqual(try ports(lab)["tap13"], [1000], started.error)
        XCTAssertTrue(try lab.scenario.ping(vm13, "198.19.10.21").0, "the VM switches in VNI 1000")

        let again = try runHook(Self.libvirtHook, ["vm13", "started", "begin", "-"], stdin: xml, environment: env, in: lab.lab.hv1)
        XCTAssertEqual(again.status, 0, again.error)
        XCTAssertTrue(again.error.contains("already attached"), again.error)
        XCTAssertEqual(try ports(lab)["tap13"], [1000])

        for _ in 0..<2 {
            let stopped = try runHook(Self.libvirtHook, ["vm13", "stopped", "end", "-"], stdin: xml, environment: env, in: lab.lab.hv1)
            XCTAssertEqual(stopped.status, 0, stopped.error)
        }
        XCTAssertNil(try ports(lab)["tap13"], "detached")
        XCTAssertFalse(try lab.show(["state"]).jsonText.contains("tap13"), "and forgotten")
    }

    /// Proxmox: tap4242i0 in the placeholder bridge vxsw1000, as qemu-server leaves it; the
    /// hookscript takes it out and attaches it in VNI 1000; post-stop detaches it.
    func testProxmoxHookscriptAttachesAndDetachesALabVM() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let lab = try RunningLab(tag: "hp")
        defer { lab.close() }
        let vm = try lab.addVM("vm4242", tap: "tap4242i0", address: "198.19.10.42")
        defer { vm.remove() }
        try lab.lab.hv1.exec(["ip", "link", "add", "vxsw1000", "type", "bridge"])
        try lab.lab.hv1.exec(["ip", "link", "set", "tap4242i0", "master", "vxsw1000"])
        let confDir = lab.workDir + "/qemu-server"
        try FileManager.default.createDirectory(atPath: confDir, withIntermediateDirectories: true)
        try Self.proxmoxConf.write(toFile: confDir + "/4242.conf", atomically: true, encoding: .utf8)
        let env = ["VXSW": try vxswBinary(), "VXSW_SOCKET": lab.scenario.controlSocket, "VXSW_PVE_CONF_DIR": confDir]

        XCTAssertEqual(try runHook(Self.proxmoxHook, ["4242", "pre-start"], environment: env, in: lab.lab.hv1).status, 0)
        let start = try runHook(Self.proxmoxHook, ["4242", "post-start"], environment: env, in: lab.lab.hv1)
        XCTAssertEqual(start.status, 0, start.error)
        XCTAssertFalse(try lab.lab.hv1.exec(["ip", "-o", "link", "show", "tap4242i0"]).output.contains("master"),
                       "out of the placeholder bridge")
        XCTAssertEqual(try ports(lab)["tap4242i0"], [1000], start.error)
        XCTAssertTrue(try lab.scenario.ping(vm, "198.19.10.21").0, "the VM switches in VNI 1000")

        let again = try runHook(Self.proxmoxHook, ["4242", "post-start"], environment: env, in: lab.lab.hv1)
        XCTAssertEqual(again.status, 0, again.error)
        XCTAssertTrue(again.error.contains("already attached"), again.error)

        XCTAssertEqual(try runHook(Self.proxmoxHook, ["4242", "pre-stop"], environment: env, in: lab.lab.hv1).status, 0)
        let stop = try runHook(Self.proxmoxHook, ["4242", "post-stop"], environment: env, in: lab.lab.hv1)
        XCTAssertEqual(stop.status, 0, stop.error)
        XCTAssertNil(try ports(lab)["tap4242i0"], "detached")
    }

    private func ports(_ lab: RunningLab) throws -> [String: [UInt32]] {
        let ports: [PortView] = try lab.show(["ports"]).decode()
        return Dictionary(uniqueKeysWithValues: ports.map { ($0.name, $0.vnis) })
    }
}
