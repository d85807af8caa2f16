using System.Text;
using Cradle.Tests;
using Microsoft.Data.Sqlite;

namespace Cradle.Store.Tests;

/// <summary>
/// The owned-chunk lookup answers every chunk query of a device's backup: its plan must search
/// each id by (device, chunk), not scan every chunk the device owns once per id. The bundled
/// SQLite chose the scan for the first form of the statement, and a 20,000-file device's
/// after-change backup went from about a second to 81 s (issue 23 phase 2). Checked on the plan
/// SQLite reports for the statement as the catalog runs it, on a real catalog.
/// </summary>
public sealed class OwnedLookUpPlanTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task The_owned_lookup_searches_each_id_by_device_and_chunk_and_computes_the_id_rows_once()
    {
        string database;
        using (var store = await TestStore.OpenAsync(_temp["store"], _temp["scratch"]))
        {
            database = store.Store.DatabasePath!;
            var files = Enumerable.Range(0, 50).ToDictionary(i => $"data/file-{i}.txt", i => Encoding.UTF8.GetBytes($"file {i} " + new string('x', i * 97)));
            await store.BackupAsync("MX7-PLAN", files);
        }

        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + Catalog.OwnedLookUpSql;
        command.Parameters.AddWithValue("@count", 256);
        command.Parameters.AddWithValue("@ids", new byte[256 * 32]);
        command.Parameters.AddWithValue("@owner", "MX7-PLAN");
        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        // The first form's plan: CO-ROUTINE n … SEARCH o USING PRIMARY KEY (device_key=?) … SCAN n.
        Assert.Contains("SEARCH o USING PRIMARY KEY (device_key=? AND chunk=?)", plan);
        Assert.DoesNotContain(plan, step => step.StartsWith("CO-ROUTINE n", StringComparison.Ordinal));
    }

    public void Dispose() => _temp.Dispose();
}
