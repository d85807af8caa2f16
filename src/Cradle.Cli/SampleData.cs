using System.Globalization;
using System.Text;

namespace Cradle.Cli;

/// <summary>The demo's handheld data: scanner logs, CSV exports, a small database and photos, seeded so every run is alike.</summary>
internal static class SampleData
{
    public sealed record Summary(int Files, long Bytes);

    public sealed record Changes(int Appended, int Edited, int Added);

    public static Summary Create(string root)
    {
        var random = new Random(7);
        Directory.CreateDirectory(Path.Combine(root, "logs"));
        Directory.CreateDirectory(Path.Combine(root, "exports", "2026-11"));
        Directory.CreateDirectory(Path.Combine(root, "photos"));
        Directory.CreateDirectory(Path.Combine(root, "empty-folder"));
        for (var i = 0; i < 12; i++)
        {
            var log = new StringBuilder();
            for (var line = 0; line < 400 + random.Next(400); line++)
            {
                log.Append(CultureInfo.InvariantCulture, $"2026-11-{1 + (line % 28):00} 08:{line % 60:00}:{i:00} scan ok item={random.Next(100000, 999999)} bin=A{random.Next(1, 40)} user=picker{random.Next(1, 9)}\n");
            }

            File.WriteAllText(Path.Combine(root, "logs", $"scanner-{i:00}.log"), log.ToString());
        }

        for (var i = 0; i < 6; i++)
        {
            var csv = new StringBuilder("sku,qty,location,counted_at\n");
            for (var row = 0; row < 2000; row++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"SKU{random.Next(10000, 99999)},{random.Next(0, 500)},R{random.Next(1, 20)}-S{random.Next(1, 8)},2026-11-{1 + (row % 28):00}T10:{row % 60:00}:00Z\n");
            }

            File.WriteAllText(Path.Combine(root, "exports", "2026-11", $"inventory-{i}.csv"), csv.ToString());
        }

        // A page-structured database, and its backup copy: the copy deduplicates against it.
        var database = new byte[2 * 1024 * 1024];
        random.NextBytes(database);
        File.WriteAllBytes(Path.Combine(root, "inventory.db"), database);
        File.WriteAllBytes(Path.Combine(root, "inventory.db.bak"), database);
        for (var i = 0; i < 3; i++)
        {
            var photo = new byte[(1024 * 1024) + random.Next(512 * 1024)];
            random.NextBytes(photo);
            File.WriteAllBytes(Path.Combine(root, "photos", $"IMG_{1000 + i}.jpg"), photo);
        }

        File.WriteAllBytes(Path.Combine(root, "empty.txt"), []);
        File.WriteAllText(Path.Combine(root, "logs", "größe-überprüft.txt"), "unicode names are kept\n");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToList();
        return new Summary(files.Count, files.Sum(f => new FileInfo(f).Length));
    }

    /// <summary>What a day on the handheld does: logs grow, a database page changes, a new export appears.</summary>
    public static Changes Change(string root)
    {
        var random = new Random(11);
        for (var i = 0; i < 3; i++)
        {
            File.AppendAllText(Path.Combine(root, "logs", $"scanner-{i:00}.log"), $"2026-11-25 17:00:{i:00} scan ok item={random.Next(100000, 999999)} (after the first backup)\n");
        }

        using (var db = new FileStream(Path.Combine(root, "inventory.db"), FileMode.Open, FileAccess.Write))
        {
            var page = new byte[4096];
            random.NextBytes(page);
            db.Position = 1024 * 1024;
            db.Write(page);
        }

        File.WriteAllText(Path.Combine(root, "exports", "2026-11", "inventory-late.csv"), "sku,qty,location,counted_at\nSKU12345,3,R1-S1,2026-11-25T17:00:00Z\n");
        return new Changes(Appended: 3, Edited: 1, Added: 1);
    }
}
