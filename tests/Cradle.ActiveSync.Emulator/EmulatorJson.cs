using System.Text.Json.Serialization;

namespace Cradle.ActiveSync.Emulator;

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EmulatorOptions))]
[JsonSerializable(typeof(RegistryFileJson))]
[JsonSerializable(typeof(EmulatorFaults))]
[JsonSerializable(typeof(Dictionary<string, long>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class EmulatorJson : JsonSerializerContext;
