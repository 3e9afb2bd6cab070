import CVXSW
import Glibc

/// A BPF object compiled into this binary (`BPFObjects.NAME`), opened and loaded; its programs
/// and maps by name. Closing it (deinit) unloads whatever is not attached through a link.
public final class BPFObject {
    public let name: String
    private let object: OpaquePointer
    private let image: UnsafeMutableRawBufferPointer

    public init(_ name: String, image bytes: [UInt8], verbose: Bool = false, hint: String? = nil) throws {
        self.name = name
        cvxsw_libbpf_set_verbose(verbose ? 1 : 0)
        // libbpf parses the ELF image lazily up to load: keep our own copy alive as long as the object.
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { image.copyMemory(from: $0) }
        self.image = image
        guard let obj = bpf_object__open_mem(image.baseAddress, image.count, nil) else {
            let e = errno
            image.deallocate()
            throw DatapathError("open BPF object \(name)", errno: e)
        }
        let err = bpf_object__load(obj)
        if err != 0 {
            bpf_object__close(obj)
            image.deallocate()
            throw DatapathError("load BPF object \(name)", result: err, hint: hint)
        }
        object = obj
    }

    deinit {
        bpf_object__close(object)
        image.deallocate()
    }

    public func programFD(_ program: String) throws -> Int32 {
        guard let p = bpf_object__find_program_by_name(object, program) else {
            throw DatapathError("\(name): program \(program)", errno: ENOENT)
        }
        return bpf_program__fd(p)
    }

    public func mapFD(_ map: String) throws -> Int32 {
        let fd = bpf_object__find_map_fd_by_name(object, map)
        guard fd >= 0 else { throw DatapathError("\(name): map \(map)", errno: ENOENT) }
        return fd
    }

    /// Size and member offsets (by name) of struct `name` as this object's BTF has it.
    public func structLayout(_ name: String) -> (size: Int, offsets: [String: Int])? {
        var size: UInt32 = 0
        var names = [UnsafePointer<CChar>?](repeating: nil, count: 64)
        var offsets = [UInt32](repeating: 0, count: 64)
        let n = Int(cvxsw_btf_struct_layout(object, name, &size, &names, &offsets, 64))
        guard n >= 0 else { return nil }
        var out: [String: Int] = [:]
        for i in 0..<min(n, 64) { if let p = names[i] { out[String(cString: p)] = Int(offsets[i]) } }
        return (Int(size), out)
    }
}
