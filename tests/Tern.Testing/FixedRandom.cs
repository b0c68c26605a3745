namespace Tern.Testing;

/// <summary>A Random that always draws the same value, for code that takes one to jitter or split by weight:
/// NextDouble returns <paramref name="fraction"/>, Next(n) returns fraction * n.</summary>
public sealed class FixedRandom(double fraction) : Random
{
    public override double NextDouble() => fraction;
    public override int Next(int maxValue) => (int)(fraction * maxValue);
    public override int Next(int minValue, int maxValue) => minValue + (int)(fraction * (maxValue - minValue));
    protected override double Sample() => fraction;
}
