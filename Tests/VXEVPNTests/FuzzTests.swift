import XCTest
import VXCore
@testable import VXEVPN

/// Bounded mutation fuzzing of the message decoder over the captured corpus. The decoder
/// must never trap; whatever it accepts must re-encode and decode to the same message.
/// VXEVPN_FUZZ_SECONDS sets the time (default 3 s), VXEVPN_FUZZ_SEED the seed.
final class FuzzTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let interesting: [UInt8] = [0, 1, 2, 3, 4, 6, 7, 8, 0x0F, 0x10, 0x20, 0x30, 0x40, 0x7F, 0x80, 0x90, 0xC0, 0xFE, 0xFF]

    static func mutate(_ input: [UInt8], _ corpus: [[UInt8]], _ g: inout SplitMix) -> [UInt8] {
        var m = input
        for _ in 0...Int.random(in: 0...3, using: &g) {
            guard !m.isEmpty else { break }
            let i = Int.random(in: 0..<m.count, using: &g)
            switch Int.random(in: 0..<8, using: &g) {
            case 0: m[i] ^= 1 << UInt8.random(in: 0..<8, using: &g)
            case 1: m[i] = interesting.randomElement(using: &g) ?? 0
            case 2: m[i] = UInt8.random(in: 0...255, using: &g)
            case 3: m.removeSubrange(i..<min(m.count, i + Int.random(in: 1...8, using: &g)))
            case 4: m.insert(contentsOf: (0..<Int.random(in: 1...8, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }, at: i)
            case 5: m = Array(m.prefix(i))
            case 6: // splice the tail of another message
                let other = corpus.randomElement(using: &g) ?? []
                let j = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &g)
                m = Array(m.prefix(i)) + other.suffix(from: j)
            default: // duplicate a chunk (repeated attributes, NLRI)
                let n = Int.random(in: 1...min(16, m.count - i), using: &g)
                m.insert(contentsOf: m[i..<(i + n)], at: i)
            }
        }
        // Most of the time keep the header consistent so the mutation reaches the body.
        if m.count >= 19, Int.random(in: 0..<4, using: &g) != 0 {
            for k in 0..<16 { m[k] = 0xFF }
            m[16] = UInt8(truncatingIfNeeded: m.count >> 8); m[17] = UInt8(truncatingIfNeeded: m.count)
        }
        return m
    }

    func testDecoderNeverTrapsAndRoundTrips() {
        let env = ProcessInfo.processInfo.environment
        let seconds = Double(env["VXEVPN_FUZZ_SECONDS"] ?? "") ?? 3
        let seed = UInt64(env["VXEVPN_FUZZ_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)
        var g = SplitMix(state: seed)
        var corpus = CapturedCorpus.bytes.map(\.bytes)
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0, accepted = 0, withdrawn = 0, resets = [String: Int]()
        let contexts = [BGPDecodeContext(), BGPDecodeContext(fourOctetAS: false, internalPeer: true)]
        while Date() < deadline {
            for _ in 0..<200 {
                runs += 1
                let input = Self.mutate(corpus[Int.random(in: 0..<corpus.count, using: &g)], corpus, &g)
                let ctx = contexts[runs & 1]
                do {
                    let m = try BGPMessage.decode(input, context: ctx)
                    accepted += 1
                    if case .update(let u) = m {
                        if u.treatAsWithdraw { withdrawn += 1; continue }
                        if !u.problems.isEmpty || !u.attributes.unknown.isEmpty { continue }
                    }
                    let again = m.encode(fourOctetAS: ctx.fourOctetAS)
                    if again.count <= BGPMessage.maxLength {
                        XCTAssertEqual(try? BGPMessage.decode(again, context: ctx), m,
                                       "seed \(seed) input \(hexString(input))")
                    }
                    // Keep a few accepted mutants: the corpus grows toward deeper states.
                    if corpus.count < 400 && runs % 7 == 0 { corpus.append(input) }
                } catch let n as BGPNotification {
                    resets[n.description.components(separatedBy: " data").first ?? "", default: 0] += 1
                } catch {
                    XCTFail("unexpected error \(error) for \(hexString(input)) seed \(seed)")
                }
            }
        }
        print("fuzz: seed \(seed), \(runs) inputs, \(accepted) accepted, \(withdrawn) treat-as-withdraw, resets \(resets.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(runs, 1000)
    }
}
