using Cradle.Protocol;

namespace Cradle.Content;

/// <summary>A stored file (pack, catalog, the device's files cache) is of an unknown version or damaged.</summary>
public sealed class StoreFormatException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);
