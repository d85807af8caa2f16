using System.Text.RegularExpressions;

namespace Cradle.Protocol.Tests;

/// <summary>
/// Secrets, proofs, verifiers, nonces, commitments and tokens are compared in constant time
/// (<c>CryptographicOperations.FixedTimeEquals</c>), never with <c>==</c>, <c>Equals</c> or
/// <c>SequenceEqual</c>, which return at the first differing byte and let a peer who can time
/// the answers guess a proof byte by byte. Timing is not measured (tests never assert wall-clock
/// times); the code is read: every comparison in <c>src/</c> whose operand is named for a secret
/// is found, and there must be none but <c>FixedTimeEquals</c>. Lengths are public and may be
/// compared any way.
/// </summary>
public sealed partial class SecretComparisonTests
{
    [Fact]
    public void No_secret_is_compared_with_an_early_exit_comparison()
    {
        var sources = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.True(sources.Count > 50, $"found only {sources.Count} source files: the scan is looking in the wrong place");

        var found = sources.SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line: i + 1, text: line)))
            .Where(l => Violations(l.text).Any())
            .Select(l => $"{Path.GetRelativePath(RepositoryRoot(), l.file)}:{l.line}: {l.text.Trim()}")
            .ToList();
        Assert.True(found.Count == 0, "secrets compared with an early-exit comparison:\n" + string.Join('\n', found));
    }

    [Fact]
    public void The_places_that_check_a_secret_use_FixedTimeEquals()
    {
        // The scan above finds nothing wrong; this says the checks exist and are the constant-time kind.
        var root = RepositoryRoot();
        int Uses(string file) => Regex.Count(File.ReadAllText(Path.Combine(root, file)), @"CryptographicOperations\.FixedTimeEquals\(");
        Assert.Equal(2, Uses("src/Cradle.Protocol/SessionProof.cs"));          // the session proof and the reclaim proof
        Assert.Equal(1, Uses("src/Cradle.Host/HostSession.Partnering.cs"));    // the approval nonce against its commitment (moved out of HostSession.cs by issue 19)
        Assert.Equal(1, Uses("src/Cradle.Host/Dashboard/HttpToken.cs"));       // the dashboard token
    }

    [Theory]
    [InlineData("if (proof.SequenceEqual(expected))")]
    [InlineData("return expected.AsSpan().SequenceEqual(proof);")]
    [InlineData("if (candidate == token)")]
    [InlineData("if (string.Equals(offered, _token, StringComparison.Ordinal))")]
    [InlineData("return slot.Secret.Equals(secret);")]
    [InlineData("if (record.RecoveryVerifier != verifier)")]
    [InlineData("ok = nonce.SequenceEqual(commitment);")]
    public void The_scan_finds_an_early_exit_comparison_of_a_secret(string line) => Assert.NotEmpty(Violations(line));

    [Theory]
    [InlineData("return CryptographicOperations.FixedTimeEquals(expected, proof);")]
    [InlineData("if (request.Commitment.Length != 32)")]
    [InlineData("if (accepted.NewSecret.Length != 32 || accepted.Number != number)")]
    [InlineData("while (!cancellationToken.IsCancellationRequested && Equals(a, b))")]
    [InlineData("if (header.SequenceEqual(Magic)) // the proof is checked later")]
    public void The_scan_lets_constant_time_and_length_comparisons_pass(string line) => Assert.Empty(Violations(line));

    /// <summary>The secret-named operands of early-exit comparisons on one line of C#.</summary>
    private static IEnumerable<string> Violations(string line)
    {
        var code = line.Split("//", 2)[0];
        return EarlyExitComparison().Matches(code)
            .SelectMany(m => m.Groups["operand"].Captures)
            .Select(c => c.Value)
            .Where(operand => SecretName().IsMatch(operand) && !operand.Contains("cancellation", StringComparison.OrdinalIgnoreCase));
    }

    // An operand (a name with member access) on either side of == or !=, or before or inside
    // Equals/SequenceEqual; an operand followed by .Length or .Count is not captured whole.
    [GeneratedRegex(@"(?<operand>[\w.]+)(?=\s*(?:==|!=))|(?:==|!=)\s*(?<operand>[\w.]+)|(?:(?<operand>[\w.]+?)(?:\.AsSpan\(\))?\.)?(?:\bSequenceEqual|\bEquals)\(\s*(?<operand>[\w.]+)?(?:\s*,\s*(?<operand>[\w.]+))?")]
    private static partial Regex EarlyExitComparison();

    [GeneratedRegex(@"(secret|proof|verifier|nonce|commitment|recoverykey|token)\w*$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Cradle.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no Cradle.slnx above {AppContext.BaseDirectory}");
    }
}
