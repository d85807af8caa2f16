namespace Cradle.ActiveSync.Rapi;

/// <summary>The two RAPI dialects: command ids, string encodings and reply headers differ.</summary>
public enum RapiVersion
{
    /// <summary>Windows CE 5.0 and earlier (and pre-WM5 Pocket PCs): a flag word leads every reply.</summary>
    Rapi1 = 1,

    /// <summary>Windows Mobile 5 and later (CE 5.1+), and CE 6.0 and later.</summary>
    Rapi2 = 2,
}

/// <summary>Which RAPI version a device speaks.</summary>
public static class RapiVersions
{
    /// <summary>
    /// RAPI2 from OS 5.1 on — Windows Mobile 5 (CE 5.1), Windows Mobile 6 (CE 5.2), Windows CE 6.0 and
    /// Windows Embedded Compact 7 — and RAPI1 before it. SynCE tests <c>major &gt; 4 &amp;&amp; minor &gt; 0</c>,
    /// which sends CE 6.0 and 7.0 (minor 0) down the RAPI1 path: CE 6.0 shipped after WM5 with the same
    /// ActiveSync 4 desktop generation, so its RAPI server is the newer one. We compare the version as
    /// a pair. A real CE 6.0 device settles it; <see cref="ActiveSyncOptions.RapiVersionOverride"/> is
    /// the escape hatch if one does not.
    /// </summary>
    public static RapiVersion For(uint osMajor, uint osMinor) =>
        osMajor > 5 || (osMajor == 5 && osMinor >= 1) ? RapiVersion.Rapi2 : RapiVersion.Rapi1;
}
