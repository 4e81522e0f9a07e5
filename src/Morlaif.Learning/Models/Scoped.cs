using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Runs a computation inside a dispose scope and hands its results to the caller's scope (or to none).
/// Why every public entry point that computes goes through here: a TorchSharp tensor outside a scope is
/// reachable only through the locals that name it, and the JIT ends a local's life at its last use, which is
/// reading its native handle for the next op. A collection on another thread can then finalize that
/// temporary while the native op is still reading it. Seen in CI, in a parallel test run: cross_entropy
/// failed with "target batch_size (0)" for a target tensor built one line earlier. A scope's list keeps
/// every temporary reachable until the scope ends, and frees them there instead of in the finalizer.
/// </summary>
public static class Scoped
{
    public static Tensor Run(Func<Tensor> compute)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(compute());
    }

    public static (Tensor, Tensor) Run(Func<(Tensor, Tensor)> compute)
    {
        using var scope = NewDisposeScope();
        var (a, b) = compute();
        return (scope.MoveToOuter(a), scope.MoveToOuter(b));
    }

    public static (Tensor, T) Run<T>(Func<(Tensor, T)> compute)
    {
        using var scope = NewDisposeScope();
        var (a, b) = compute();
        return (scope.MoveToOuter(a), b);
    }
}
