using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 21: the CLI talks to the host and device libraries, never to the store. Read from the
/// built <c>cradle.dll</c>'s own metadata (what the compiler emitted, not the source): no type it
/// references lives in the <c>Cradle.Store</c> assembly or namespace, whether named directly or
/// through a host member whose signature carries a store type.
/// </summary>
public sealed class CliSeamTests
{
    /// <summary>The managed cradle.dll beside the executable this project builds (CRADLE_EXE may name a native one, which has no metadata).</summary>
    private static string CliAssembly =>
        typeof(CliSeamTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CradleExecutable").Value! + ".dll";

    [Fact]
    public void The_cli_references_no_store_type()
    {
        using var stream = File.OpenRead(CliAssembly);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var leaks = metadata.TypeReferences
            .Select(h => metadata.GetTypeReference(h))
            .Where(t => IsStore(metadata, t))
            .Select(t => FullName(metadata, t))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(leaks.Count == 0, $"cradle.dll names store types: {string.Join(", ", leaks)}");
        var references = metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
        Assert.Contains("Cradle.Host", references);
        Assert.DoesNotContain("Cradle.Store", references);
    }

    /// <summary>A type from the store: its outermost type's scope is the Cradle.Store assembly, or its namespace is the store's.</summary>
    private static bool IsStore(MetadataReader metadata, TypeReference type)
    {
        while (type.ResolutionScope.Kind == HandleKind.TypeReference)
        {
            type = metadata.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
        }

        var space = metadata.GetString(type.Namespace);
        if (space == "Cradle.Store" || space.StartsWith("Cradle.Store.", StringComparison.Ordinal))
        {
            return true;
        }

        return type.ResolutionScope.Kind == HandleKind.AssemblyReference
            && metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name) == "Cradle.Store";
    }

    private static string FullName(MetadataReader metadata, TypeReference type) =>
        type.ResolutionScope.Kind == HandleKind.TypeReference
            ? FullName(metadata, metadata.GetTypeReference((TypeReferenceHandle)type.ResolutionScope)) + "+" + metadata.GetString(type.Name)
            : metadata.GetString(type.Namespace) + "." + metadata.GetString(type.Name);
}
