/// Compiled BPF objects, filled in by the BPFBuild plugin (one static property per BPF/*.c).
public enum BPFObjects {}
