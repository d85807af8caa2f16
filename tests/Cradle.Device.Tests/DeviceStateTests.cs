using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Device.Tests;

public sealed class DeviceStateTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _temp = new();
    private readonly DeviceState _state;
    private readonly string _docs;
    private readonly string _photos;

    public DeviceStateTests()
    {
        _state = new DeviceState(_temp["state"]);
        _docs = Directory.CreateDirectory(_temp["device/Documents"]).FullName;
        _photos = Directory.CreateDirectory(_temp["device/Photos"]).FullName;
    }

    public void Dispose() => _temp.Dispose();

    private static readonly PartnershipSlot Office = Slots.Make("office-pc", 0x1111_1111, createdUnixMs: 1_000);
    private static readonly PartnershipSlot Depot = Slots.Make("depot-pc", 0x2222_2222, createdUnixMs: 2_000);

    [Fact]
    public void Initialize_then_Load_round_trips()
    {
        var created = _state.Initialize("MX7-0042", [_docs, _photos], new FixedTime(Now)).Identity;

        var loaded = _state.LoadIdentity();

        Assert.True(_state.IsInitialized);
        Assert.Equal("MX7-0042", loaded.Name);
        Assert.Equal(new[] { new DataFolder("Documents", _docs), new DataFolder("Photos", _photos) }, loaded.Folders);
        Assert.Equal(created.RecoveryKey, loaded.RecoveryKey);
        Assert.Equal(32, Convert.FromBase64String(loaded.RecoveryKey).Length);
        Assert.Equal(Now.ToUnixTimeMilliseconds(), loaded.CreatedUnixMs);
        Assert.Empty(_state.LoadPartnerships().Slots);
    }

    [Fact]
    public void P1_an_agent_may_carry_the_Windows_Mobile_default_name_with_an_underscore()
    {
        _state.Initialize("Pocket_PC", [_docs]);

        Assert.Equal("Pocket_PC", _state.LoadIdentity().Name);
    }

    [Fact]
    public void Partnerships_round_trip()
    {
        _state.Initialize("MX7", [_docs]);
        var withBackup = Depot with { LastBackup = new LastBackup(5, 6, 7, 8, 9, "usb") };

        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, withBackup] });

        Assert.Equal(new[] { Office, withBackup }, _state.LoadPartnerships().Slots);
    }

    [Fact]
    public void Folders_with_the_same_name_get_distinct_labels()
    {
        var other = Directory.CreateDirectory(_temp["sd-card/Documents"]).FullName;

        var identity = _state.Initialize("MX7", [_docs, other]).Identity;

        Assert.Equal(new[] { "Documents", "Documents-2" }, identity.Folders.Select(f => f.Label));
    }

    [Theory]
    [InlineData("7up")]
    [InlineData("mx.7")]
    [InlineData("")]
    [InlineData("a-name-that-is-too-long")]
    public void P1_Initialize_refuses_a_bad_name_and_leaves_the_device_uninitialized(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => _state.Initialize(name, [_docs]));

        Assert.Contains("1-15 characters", e.Message, StringComparison.Ordinal);
        Assert.False(_state.IsInitialized);
    }

    [Fact]
    public void Initialize_refuses_a_missing_folder_and_leaves_the_device_uninitialized()
    {
        var missing = _temp["device/NoSuchFolder"];

        var e = Assert.Throws<ArgumentException>(() => _state.Initialize("MX7", [_docs, missing]));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.False(_state.IsInitialized);
    }

    [Fact]
    public void Initialize_refuses_no_folders()
    {
        Assert.Throws<ArgumentException>(() => _state.Initialize("MX7", []));
        Assert.False(_state.IsInitialized);
    }

    [Fact]
    public void Initialize_refuses_a_folder_that_already_holds_another_device()
    {
        _state.Initialize("MX7", [_docs]);

        var e = Assert.Throws<ArgumentException>(() => _state.Initialize("Other", [_docs]));

        Assert.Contains("MX7", e.Message, StringComparison.Ordinal);
        Assert.Contains("cradle device name Other", e.Message, StringComparison.Ordinal);
        Assert.Equal("MX7", _state.LoadIdentity().Name);
    }

    [Fact]
    public void Initialize_again_with_the_same_name_adds_the_new_folders_and_keeps_everything_else()
    {
        var first = _state.Initialize("MX7", [_docs]).Identity;
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office] });

        var same = _state.Initialize("mx7", [_docs]);
        var more = _state.Initialize("MX7", [_docs, _photos]);

        Assert.False(same.Created);
        Assert.Empty(same.Added);
        Assert.Equal(new[] { "Photos" }, more.Added.Select(f => f.Label));
        var after = _state.LoadIdentity();
        Assert.Equal(new[] { _docs, _photos }, after.Folders.Select(f => f.Path));
        Assert.Equal(first.RecoveryKey, after.RecoveryKey);
        Assert.Equal(Office, Assert.Single(_state.LoadPartnerships().Slots));
    }

    [Fact]
    public void Folders_are_added_removed_and_given_exclude_patterns_in_the_state()
    {
        _state.Initialize("MX7", [_docs]);

        var photos = _state.AddFolder(_photos, ["*.raw"]);
        _state.ChangeExclude(["thumbs/"], "Photos", remove: false);
        _state.ChangeExclude(["*.tmp", "*.bak"], folder: null, remove: false);
        _state.ChangeExclude(["*.bak"], folder: null, remove: true);

        var identity = _state.LoadIdentity();
        Assert.Equal("Photos", photos.Label);
        Assert.Equal(new[] { "*.raw", "thumbs/" }, identity.Folders[1].Exclude);
        Assert.Equal(new[] { "*.tmp" }, identity.Exclude);
        Assert.Throws<ArgumentException>(() => _state.ChangeExclude(["[unclosed"], folder: null, remove: false));
        Assert.Throws<ArgumentException>(() => _state.ChangeExclude(["*.nope"], folder: null, remove: true));

        Assert.Equal(_docs, _state.RemoveFolder("Documents").Path);
        Assert.Equal(new[] { "Photos" }, _state.LoadIdentity().Folders.Select(f => f.Label));
        var last = Assert.Throws<ArgumentException>(() => _state.RemoveFolder(_photos));
        Assert.Contains("only data folder", last.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_an_uninitialized_folder_says_what_to_do()
    {
        var e = Assert.Throws<DeviceStateException>(_state.LoadIdentity);
        Assert.Contains("cradle device init", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void P6_cold_boot_keeps_the_name_and_the_older_partnership_and_deletes_the_files_cache()
    {
        var identity = _state.Initialize("MX7-0042", [_docs]).Identity;
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, Depot] });
        SaveEmptyFilesCache();
        Assert.True(File.Exists(_state.FilesCachePath));

        var lost = _state.ColdBoot();

        Assert.Equal(Depot, lost);
        Assert.Equal(Office, Assert.Single(_state.LoadPartnerships().Slots));
        Assert.False(File.Exists(_state.FilesCachePath));
        var after = _state.LoadIdentity();
        Assert.Equal("MX7-0042", after.Name);
        Assert.Equal(identity.RecoveryKey, after.RecoveryKey);
        Assert.Equal(identity.Folders, after.Folders);
    }

    [Fact]
    public void P6_cold_boot_without_partnerships_or_cache_is_harmless()
    {
        _state.Initialize("MX7", [_docs]);

        Assert.Null(_state.ColdBoot());
        Assert.Empty(_state.LoadPartnerships().Slots);
    }

    [Fact]
    public void P8_rename_ends_every_partnership_and_keeps_folders_and_recovery_key()
    {
        var identity = _state.Initialize("MX7-0042", [_docs, _photos]).Identity;
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, Depot] });

        var ended = _state.Rename("MX7-0043");

        Assert.Equal(new[] { Office, Depot }, ended);
        Assert.Empty(_state.LoadPartnerships().Slots);
        var after = _state.LoadIdentity();
        Assert.Equal("MX7-0043", after.Name);
        Assert.Equal(identity.Folders, after.Folders);
        Assert.Equal(identity.RecoveryKey, after.RecoveryKey);
    }

    [Fact]
    public void P1_P8_rename_to_the_same_name_in_another_case_only_changes_the_spelling()
    {
        _state.Initialize("mx7-0042", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office] });

        Assert.Empty(_state.Rename("MX7-0042"));

        Assert.Equal("MX7-0042", _state.LoadIdentity().Name);
        Assert.Equal(Office, Assert.Single(_state.LoadPartnerships().Slots));
    }

    [Fact]
    public void P1_rename_to_a_bad_name_is_refused_and_ends_nothing()
    {
        _state.Initialize("MX7", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office] });

        Assert.Throws<ArgumentException>(() => _state.Rename("bad name"));

        Assert.Equal("MX7", _state.LoadIdentity().Name);
        Assert.Single(_state.LoadPartnerships().Slots);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"version\": 1, \"slots\": [")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{\"version\": 2, \"slots\": []}")]
    [InlineData("{\"version\": 1, \"slots\": null}")]
    public void A_damaged_partnerships_file_names_its_path(string content)
    {
        _state.Initialize("MX7", [_docs]);
        File.WriteAllText(_state.PartnershipsPath, content);

        var e = Assert.Throws<DeviceStateException>(_state.LoadPartnerships);

        Assert.Contains(_state.PartnershipsPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_partnerships_file_with_a_null_secret_is_damaged()
    {
        _state.Initialize("MX7", [_docs]);
        File.WriteAllText(_state.PartnershipsPath, """
            {"version": 1, "slots": [{"hostId": "h", "hostName": "office", "address": "a", "number": 5, "secret": null, "certificateSha256": null, "createdUnixMs": 1}]}
            """);

        var e = Assert.Throws<DeviceStateException>(_state.LoadPartnerships);
        Assert.Contains(_state.PartnershipsPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void P3_a_partnerships_file_with_three_slots_is_damaged()
    {
        _state.Initialize("MX7", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, Depot, Slots.Make("third", 0x3333, 3_000)] });

        var e = Assert.Throws<DeviceStateException>(_state.LoadPartnerships);

        Assert.Contains(_state.PartnershipsPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("more than 2 slots", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFFFu)]
    public void P2_a_partnerships_file_with_an_invalid_number_is_damaged(uint number)
    {
        _state.Initialize("MX7", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office with { Number = number }] });

        var e = Assert.Throws<DeviceStateException>(_state.LoadPartnerships);
        Assert.Contains(_state.PartnershipsPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_state_file_is_refused_before_it_is_read()
    {
        _state.Initialize("MX7", [_docs]);
        File.WriteAllBytes(_state.PartnershipsPath, new byte[2 * 1024 * 1024]);

        var e = Assert.Throws<DeviceStateException>(_state.LoadPartnerships);
        Assert.Contains(_state.PartnershipsPath, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ broken")]
    [InlineData("{\"version\": 1, \"name\": \"7up\", \"folders\": [], \"recoveryKey\": \"x\"}")]
    [InlineData("{\"version\": 1, \"name\": \"MX7\", \"folders\": [{\"label\": \"../up\", \"path\": \"/tmp\"}], \"recoveryKey\": \"x\"}")]
    [InlineData("{\"version\": 1, \"name\": \"MX7\", \"folders\": [{\"label\": \"a/b\", \"path\": \"/tmp\"}], \"recoveryKey\": \"x\"}")]
    [InlineData("{\"version\": 3, \"name\": \"MX7\", \"folders\": [], \"recoveryKey\": \"x\"}")]
    public void A_damaged_identity_file_names_its_path(string content)
    {
        _state.Initialize("MX7", [_docs]);
        File.WriteAllText(_state.IdentityPath, content);

        var e = Assert.Throws<DeviceStateException>(_state.LoadIdentity);
        Assert.Contains(_state.IdentityPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_files_are_written_atomically_and_leave_no_temporary_files()
    {
        _state.Initialize("MX7", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, Depot] });
        SaveEmptyFilesCache();
        _state.ColdBoot();
        _state.Rename("MX8");
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office] });

        var files = Directory.GetFiles(_state.Folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_state.Folder, f))
            .Order(StringComparer.Ordinal);
        Assert.Equal(new[] { Path.Combine("persistent", "device.json"), Path.Combine("volatile", "partnerships.json") }, files);
    }

    [Fact]
    public void Saving_replaces_the_whole_file_and_a_reader_holding_the_old_one_still_sees_it_whole()
    {
        _state.Initialize("MX7", [_docs]);
        _state.SavePartnerships(new PartnershipsFile { Slots = [Office, Depot] });
        using var old = new FileStream(_state.PartnershipsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        _state.SavePartnerships(new PartnershipsFile { Slots = [] });

        // Written in place, the open handle would see the new, shorter content.
        using var reader = new StreamReader(old, Encoding.UTF8);
        Assert.Contains("depot-pc", reader.ReadToEnd(), StringComparison.Ordinal);
        Assert.Empty(_state.LoadPartnerships().Slots);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private void SaveEmptyFilesCache()
    {
        using var cache = new FilesCacheWriter(Path.GetDirectoryName(_state.FilesCachePath)!, new ScanOrder([]));
        cache.Save(_state.FilesCachePath);
    }
}
