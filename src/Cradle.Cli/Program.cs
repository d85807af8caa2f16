using Cradle.Cli;

return await CradleCommand.Build().Parse(args).InvokeAsync().ConfigureAwait(false);
