using System.Reflection;
using Cradle.Store;

// This test reads the metadata of an assembly it references and is never trimmed or AOT-compiled.
#pragma warning disable IL2026, IL2070, IL2075

namespace Cradle.Host.Tests;

/// <summary>
/// Issue 21: the host's public API names no store type. Whoever builds on Cradle.Host (the CLI,
/// the benchmarks, another front end) works with the host's own types — <see cref="HostRepository"/>,
/// <see cref="HostStorage"/>, <see cref="StoreLocation"/> and the rows — so the store stays free
/// to change behind them. The store's side is PublicSurfaceTests (Cradle.Store.Tests).
/// </summary>
public sealed class HostPublicSurfaceTests
{
    private static readonly Assembly Store = typeof(ChunkStore).Assembly;

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void No_public_host_member_names_a_store_type()
    {
        var leaks = typeof(HostService).Assembly.GetExportedTypes()
            .SelectMany(t => Signatures(t).SelectMany(s => Named(s.Type).Where(n => n.Assembly == Store).Select(n => $"{t.Name}.{s.Member}: {n.FullName}")))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(leaks.Count == 0, $"the host's public API shows store types:{Environment.NewLine}{string.Join(Environment.NewLine, leaks)}");
    }

    /// <summary>Every type a caller outside the host sees in <paramref name="type"/>'s declaration and its public and protected members.</summary>
    private static IEnumerable<(string Member, Type Type)> Signatures(Type type)
    {
        if (type.BaseType is { } b)
        {
            yield return ("(base)", b);
        }

        foreach (var i in type.GetInterfaces())
        {
            yield return ("(interface)", i);
        }

        foreach (var member in type.GetMembers(Declared))
        {
            switch (member)
            {
                case FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly:
                    yield return (f.Name, f.FieldType);
                    break;
                // Methods, constructors, operators, and the accessors of properties and events.
                case MethodBase m when Seen(m):
                    foreach (var s in Of(m.Name, m))
                    {
                        yield return s;
                    }

                    break;
            }
        }
    }

    private static bool Seen(MethodBase m) => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly;

    private static IEnumerable<(string Member, Type Type)> Of(string name, MethodBase m)
    {
        if (m is MethodInfo method)
        {
            yield return (name, method.ReturnType);
        }

        foreach (var p in m.GetParameters())
        {
            yield return (name, p.ParameterType);
        }
    }

    /// <summary>The type and every type inside it: element types of arrays and references, generic arguments.</summary>
    private static IEnumerable<Type> Named(Type type)
    {
        if (type.HasElementType)
        {
            return Named(type.GetElementType()!);
        }

        return type.IsGenericType && !type.IsGenericTypeDefinition
            ? [type.GetGenericTypeDefinition(), .. type.GetGenericArguments().SelectMany(Named)]
            : [type];
    }
}
