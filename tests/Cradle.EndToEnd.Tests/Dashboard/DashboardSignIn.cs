using Microsoft.Playwright;

namespace Cradle.EndToEnd.Tests.Dashboard;

/// <summary>How the operator opens the dashboard: the token from <c>cradle host http-token</c> (readable by the host's user only), once, as <c>?token=</c>.</summary>
public static class DashboardSignIn
{
    /// <summary>Opens <c>/?token=TOKEN</c>: the dashboard sets its cookie and the page's later requests carry it.</summary>
    public static async Task SignInAsync(this IPage page, RunningHost host, Uri dashboard)
    {
        var token = await host.DashboardTokenAsync();
        var opened = await page.GotoAsync($"{dashboard}?token={Uri.EscapeDataString(token)}");
        Assert.Equal(200, opened!.Status);
    }
}
