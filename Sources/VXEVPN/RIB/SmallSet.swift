/// A set that nearly always holds one element: the routes of one MAC, of one IP (one VTEP
/// advertises it). The one is kept inline, so the common case allocates nothing and hashes
/// nothing; a second element makes it a `Set` (an anycast gateway MAC in every VNI may have
/// thousands).
struct SmallSet<Element: Hashable>: Sequence, ExpressibleByArrayLiteral {
    private enum Storage { case empty, one(Element), many(Set<Element>) }
    private var storage: Storage = .empty

    init() {}
    init(arrayLiteral elements: Element...) { for e in elements { insert(e) } }

    var isEmpty: Bool { if case .empty = storage { return true } else { return false } }
    var count: Int {
        switch storage { case .empty: return 0; case .one: return 1; case .many(let s): return s.count }
    }

    mutating func insert(_ e: Element) {
        switch storage {
        case .empty: storage = .one(e)
        case .one(let x): if x != e { storage = .many([x, e]) }
        case .many(var s):
            storage = .empty // the set's only reference is `s` now: inserted in place, not copied
            s.insert(e)
            storage = .many(s)
        }
    }

    mutating func remove(_ e: Element) {
        switch storage {
        case .empty: break
        case .one(let x): if x == e { storage = .empty }
        case .many(var s):
            storage = .empty
            s.remove(e)
            if s.count == 1, let only = s.first { storage = .one(only) } else if !s.isEmpty { storage = .many(s) }
        }
    }

    struct Iterator: IteratorProtocol {
        fileprivate var one: Element?
        fileprivate var many: Set<Element>.Iterator?
        mutating func next() -> Element? {
            if let x = one { one = nil; return x }
            return many?.next()
        }
    }

    func makeIterator() -> Iterator {
        switch storage {
        case .empty: return Iterator()
        case .one(let x): return Iterator(one: x)
        case .many(let s): return Iterator(many: s.makeIterator())
        }
    }
}
