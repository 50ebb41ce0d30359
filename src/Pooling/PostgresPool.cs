using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pgvector.Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// A bounded, recycling pool of PostgreSQL connections that hands out plain <see cref="NpgsqlConnection"/> objects.
/// Never more than <see cref="PostgresPoolOptions.MaxSize"/> physical connections exist at once; callers wait first-in
/// first-out for at most <see cref="PostgresPoolOptions.AcquireTimeout"/>; physical connections are retired after
/// <see cref="PostgresPoolOptions.MaxUses"/> leases, a jittered <see cref="PostgresPoolOptions.MaxLifetime"/> or
/// <see cref="PostgresPoolOptions.IdleTimeout"/>, only while idle. Return a connection with <c>Dispose</c>/<c>Close</c>
/// (<c>await using</c>). A returned connection object is disposed by the pool: reopening it throws
/// <see cref="ObjectDisposedException"/> (an <see cref="InvalidOperationException"/>); rent a new one.
/// </summary>
/// <remarks>
/// It is a <see cref="DbDataSource"/>, so code that takes a <see cref="DbDataSource"/> can use it unchanged:
/// <see cref="DbDataSource.OpenConnectionAsync(CancellationToken)"/>, <see cref="DbDataSource.OpenConnection"/>,
/// <see cref="DbDataSource.CreateCommand(string?)"/> and <see cref="DbDataSource.CreateBatch"/> go through the pool
/// (commands and batches rent a connection per execution and cannot be prepared or given a connection or transaction).
/// <see cref="DbDataSource.CreateConnection"/> throws <see cref="NotSupportedException"/>. Do not <c>Clone()</c> a rented
/// connection: the clone would bypass the pool. Each of the <c>MaxSize</c> slots owns a one-connection Npgsql data source, which is how a
/// single physical connection can be retired without touching the others.
/// </remarks>
public sealed class PostgresPool : DbDataSource
{
    private readonly PostgresPoolOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PoolMetrics _metrics;
    private readonly PoolSlot[] _slots;
    private readonly PoolSlot?[] _idle;
    private readonly string _safeConnectionString;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ITimer _timeoutTimer;
    private readonly ITimer _maintenanceTimer;
    private readonly ITimer? _saturationTimer;
    private int _idleCount;
    private SlotWaiter? _head;
    private SlotWaiter? _tail;
    private int _waiterCount;
    private long _timerDue = long.MaxValue;
    private int _saturationSampling;
    private volatile bool _disposed;

    /// <summary>Builds a pool. Validates every option and throws one <see cref="PoolOptionsException"/> listing all problems.</summary>
    /// <param name="options">The options; copied values are used from now on.</param>
    /// <param name="loggerFactory">Logging; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">Time; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="meterFactory">Meter factory; <see langword="null"/> to create the <c>Resilience.Pooling</c> meter directly.</param>
    public PostgresPool(PostgresPoolOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = string.IsNullOrWhiteSpace(options.Name) ? "default" : options.Name;
        var problems = PostgresPoolOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new PoolOptionsException(Name, problems);
        }

        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<PostgresPool>() ?? NullLogger.Instance;
        MaxSize = options.MaxSize;

        var inner = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            Pooling = true,
            MaxPoolSize = 1,
            MinPoolSize = 0,
            ConnectionLifetime = 0,
            ConnectionIdleLifetime = (int)TimeSpan.FromDays(7).TotalSeconds,
            ConnectionPruningInterval = (int)TimeSpan.FromHours(1).TotalSeconds,
        };
        if (options.Target == PoolTarget.PgBouncerTransaction)
        {
            inner.NoResetOnClose = true;
            if (!options.PgBouncerPreparedStatements)
            {
                inner.MaxAutoPrepare = 0;
            }
        }

        var safe = new NpgsqlConnectionStringBuilder(inner.ConnectionString) { Password = null, Passfile = null };
        _safeConnectionString = safe.ConnectionString;
        Target = Redaction.Target(inner.ConnectionString);

        _slots = new PoolSlot[MaxSize];
        _idle = new PoolSlot?[MaxSize];
        for (var i = 0; i < MaxSize; i++)
        {
            var builder = new NpgsqlDataSourceBuilder(inner.ConnectionString);
            if (options.UseVector)
            {
                builder.UseVector();
            }

            if (loggerFactory is not null)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            builder.Name = $"{Name}#{i}";
            options.ConfigureDataSource?.Invoke(builder);
            _slots[i] = new PoolSlot(this, i, builder.Build());
        }

        // LIFO idle stack: the last returned (warmest) slot is rented first, so idle ones age out when load drops.
        for (var i = 0; i < MaxSize; i++)
        {
            _idle[i] = _slots[i];
        }

        _idleCount = MaxSize;
        Saturation = new SaturationWatch(this, options.Saturation, _time);
        _metrics = new PoolMetrics(this, meterFactory);
        _timeoutTimer = _time.CreateTimer(static s => ((PostgresPool)s!).OnTimeoutTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _maintenanceTimer = _time.CreateTimer(static s => ((PostgresPool)s!).RunMaintenance(), this, options.MaintenanceInterval, options.MaintenanceInterval);
        if (options.Saturation.Enabled)
        {
            _saturationTimer = _time.CreateTimer(static s => ((PostgresPool)s!).OnSaturationTimer(), this, options.Saturation.SampleInterval, options.Saturation.SampleInterval);
        }
    }

    /// <summary>The pool's name (metric tag <c>db.client.connection.pool.name</c>, messages, logs).</summary>
    public string Name { get; }

    /// <summary>The most physical connections this pool opens at once.</summary>
    public int MaxSize { get; }

    /// <summary>Where the pool connects, as <c>host:port/database</c> (no credentials).</summary>
    public string Target { get; }

    /// <summary>The options the pool was built from.</summary>
    public PostgresPoolOptions Options => _options;

    /// <summary>The server saturation watch (sample on demand with <see cref="SaturationWatch.SampleAsync"/>).</summary>
    public SaturationWatch Saturation { get; }

    /// <summary>Callers waiting for a connection right now.</summary>
    public int Waiters => Volatile.Read(ref _waiterCount);

    /// <summary>The connection string the slots use, without the password.</summary>
    public override string ConnectionString => _safeConnectionString;

    /// <summary>
    /// Builds a pool and, when the fleet is described and <see cref="FleetBudgetOptions.CheckOnStart"/> is set, runs the
    /// budget check, disposing the pool and throwing <see cref="FleetBudgetExceededException"/> when the fleet does not fit.
    /// </summary>
    public static async Task<PostgresPool> CreateAsync(
        PostgresPoolOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null, CancellationToken cancellationToken = default)
    {
        var pool = new PostgresPool(options, loggerFactory, timeProvider, meterFactory);
        try
        {
            if (options.Fleet.IsDescribed && options.Fleet.CheckOnStart)
            {
                await pool.EnsureBudgetAsync(cancellationToken).ConfigureAwait(false);
            }

            return pool;
        }
        catch
        {
            await pool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Rents an open connection: immediately when a slot is idle, otherwise after waiting first-in first-out. Dispose it to
    /// return it. Throws <see cref="PoolAcquireTimeoutException"/> after <see cref="PostgresPoolOptions.AcquireTimeout"/>,
    /// and <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled. Once closed or
    /// disposed, the connection object is disposed and cannot be reopened (<see cref="ObjectDisposedException"/>).
    /// </summary>
    public new ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        RentCore(_options.CaptureRentStackTrace ? new StackTrace(1, true) : null, cancellationToken);

    /// <summary>
    /// Like <see cref="OpenConnectionAsync(CancellationToken)"/>, and records the calling member, file and line for leak
    /// reports at no extra cost.
    /// </summary>
    public ValueTask<NpgsqlConnection> RentAsync(
        CancellationToken cancellationToken = default,
        [CallerMemberName] string callerMember = "",
        [CallerFilePath] string callerFile = "",
        [CallerLineNumber] int callerLine = 0) =>
        RentCore(_options.LeakThreshold is null ? null : new RentSite(callerMember, callerFile, callerLine), cancellationToken);

    /// <summary>Synchronous <see cref="OpenConnectionAsync(CancellationToken)"/>; blocks the thread while waiting.</summary>
    public new NpgsqlConnection OpenConnection()
    {
        var pending = OpenConnectionAsync(CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Reads the server's limits through the pool (one lease) and checks the fleet budget; never throws for a fleet that
    /// does not fit (see <see cref="EnsureBudgetAsync"/>).
    /// </summary>
    public async Task<FleetBudgetReport> CheckBudgetAsync(CancellationToken cancellationToken = default)
    {
        var limits = await ReadServerLimitsAsync(cancellationToken).ConfigureAwait(false);
        var report = FleetBudget.Evaluate(_options, limits);
        PoolLog.BudgetChecked(_logger, Name, report.Arithmetic);
        return report;
    }

    /// <summary>Runs <see cref="CheckBudgetAsync"/> and throws <see cref="FleetBudgetExceededException"/> when the fleet does not fit.</summary>
    public async Task<FleetBudgetReport> EnsureBudgetAsync(CancellationToken cancellationToken = default)
    {
        var report = await CheckBudgetAsync(cancellationToken).ConfigureAwait(false);
        return report.Fits ? report : throw new FleetBudgetExceededException(Name, report);
    }

    /// <summary>Reads <c>max_connections</c>, <c>superuser_reserved_connections</c> and (16+) <c>reserved_connections</c>.</summary>
    public async Task<ServerLimits> ReadServerLimitsAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(ServerLimits.Query, connection);
            await using var commandScope = command.ConfigureAwait(false);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return new ServerLimits(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
            }
        }
    }

    /// <summary>A point-in-time view of the pool, for dashboards, drills and tests.</summary>
    public PoolSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            var physical = 0;
            foreach (var slot in _slots)
            {
                if (slot.BackendPid != 0)
                {
                    physical++;
                }
            }

            return new PoolSnapshot(MaxSize, MaxSize - _idleCount, _idleCount, physical, _waiterCount, LongestHold(now));
        }
    }

    /// <inheritdoc />
    protected override DbConnection CreateDbConnection() =>
        throw new NotSupportedException(
            $"Pool '{Name}' hands out connections already open: use OpenConnectionAsync/OpenConnection (or CreateCommand), " +
            "not CreateConnection().Open(), so that every connection is counted against MaxSize.");

    /// <inheritdoc />
    protected override DbConnection OpenDbConnection() => OpenConnection();

    /// <inheritdoc />
    protected override ValueTask<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken = default)
    {
        var pending = OpenConnectionAsync(cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<DbConnection>(pending.Result) : Await(pending);

        static async ValueTask<DbConnection> Await(ValueTask<NpgsqlConnection> pending) => await pending.ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override DbCommand CreateDbCommand(string? commandText = null) => new PooledCommand(this, commandText);

    /// <inheritdoc />
    protected override DbBatch CreateDbBatch() => new PooledBatch(this);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Shutdown();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        Shutdown();
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    internal TimeSpan[] GetSlotLifetimesForTests()
    {
        lock (_lock)
        {
            return _slots.Where(s => s.BackendPid != 0).Select(s => s.Lifetime).ToArray();
        }
    }

    internal (int Idle, int Used) Counts()
    {
        lock (_lock)
        {
            var idleWithConnection = 0;
            for (var i = 0; i < _idleCount; i++)
            {
                if (_idle[i]!.BackendPid != 0)
                {
                    idleWithConnection++;
                }
            }

            return (idleWithConnection, MaxSize - _idleCount);
        }
    }

    internal void CancelWaiter(SlotWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!waiter.Queued)
            {
                return;
            }

            Unlink(waiter);
        }

        waiter.Fail(new OperationCanceledException(cancellationToken));
    }

    /// <summary>The lease's connection changed state: Broken marks it, Closed returns the slot (exactly once).</summary>
    internal void OnLeaseStateChange(PoolSlot slot, object sender, StateChangeEventArgs e)
    {
        if (e.CurrentState == ConnectionState.Broken)
        {
            slot.Broken = true;
            return;
        }

        if (e.CurrentState != ConnectionState.Closed || sender is not NpgsqlConnection connection
            || Interlocked.CompareExchange(ref slot.Connection, null, connection) != connection)
        {
            return;
        }

        connection.StateChange -= slot.OnStateChange;

        // The object is done for: disposing it makes a later Open/OpenAsync on it throw ObjectDisposedException (an
        // InvalidOperationException) before it reaches the slot's one-connection data source. Otherwise a reopen would
        // take the slot's physical connection behind the pool's back, and the next renter of this slot would wait on
        // Npgsql's internal pool (its Timeout) instead of the pool's AcquireTimeout. Close and Dispose are idempotent.
        connection.Dispose();
        var now = _time.GetTimestamp();
        if (_metrics.UseTimeEnabled)
        {
            _metrics.UseTime(_time.GetElapsedTime(slot.RentedAt, now));
        }

        slot.RentSite = null;
        RecycleReason? reason =
            slot.Broken ? RecycleReason.Broken
            : slot.Uses >= _options.MaxUses ? RecycleReason.Uses
            : _time.GetElapsedTime(slot.PhysicalSince, now) >= slot.Lifetime ? RecycleReason.Lifetime
            : null;
        if (reason is { } r && !_disposed)
        {
            // Off the caller's Dispose: close the old physical connection, open its replacement, then give the slot out
            // again. Meanwhile callers are served by the other slots instead of one of them waiting for a cold open.
            Retire(slot, r, clear: false);
            _ = RefillAsync(slot);
            return;
        }

        slot.IdleSince = now;
        ReturnSlot(slot);
    }

    private long TicksOf(TimeSpan span) => (long)Math.Min(span.TotalSeconds * _time.TimestampFrequency, long.MaxValue / 4);

    private ValueTask<NpgsqlConnection> RentCore(object? site, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<NpgsqlConnection>(cancellationToken);
        }

        var start = _time.GetTimestamp();
        PoolSlot? slot = null;
        lock (_lock)
        {
            if (_idleCount > 0 && _head is null)
            {
                slot = TakeIdle();
            }
        }

        return slot is not null ? OpenOnSlot(slot, start, site, cancellationToken) : WaitThenOpen(start, site, cancellationToken);
    }

    private async ValueTask<NpgsqlConnection> WaitThenOpen(long start, object? site, CancellationToken cancellationToken)
    {
        var deadline = start + TicksOf(_options.AcquireTimeout);
        var waiter = new SlotWaiter(this, deadline);
        PoolSlot? slot = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idleCount > 0 && _head is null)
            {
                slot = TakeIdle();
            }
            else
            {
                Enqueue(waiter);
            }
        }

        if (slot is null)
        {
            if (cancellationToken.CanBeCanceled)
            {
                waiter.Register(cancellationToken);
            }

            try
            {
                slot = await waiter.Task.ConfigureAwait(false);
            }
            finally
            {
                waiter.DisposeRegistration();
            }
        }

        return await OpenOnSlot(slot, start, site, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<NpgsqlConnection> OpenOnSlot(PoolSlot slot, long start, object? site, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        Task opening;
        try
        {
            // Not the caller's token: an open that outlives its caller is handed over, not torn down (see AwaitColdOpen).
            connection = slot.DataSource.CreateConnection();
            opening = connection.OpenAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            OpenFailed(slot, ex);
            throw;
        }

        if (opening.IsCompletedSuccessfully)
        {
            return new ValueTask<NpgsqlConnection>(Attach(slot, connection, start, site));
        }

        // A warm slot hands out its idle physical connection at once; only a new physical connection (network, TLS,
        // authentication) needs the timeout and hand-over machinery.
        return slot.BackendPid != 0
            ? AwaitWarmOpen(slot, connection, opening, start, site)
            : AwaitColdOpen(slot, connection, opening, start, site, cancellationToken);
    }

    private async ValueTask<NpgsqlConnection> AwaitWarmOpen(PoolSlot slot, NpgsqlConnection connection, Task opening, long start, object? site)
    {
        try
        {
            await opening.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            OpenFailed(slot, ex);
            throw;
        }

        return Attach(slot, connection, start, site);
    }

    private async ValueTask<NpgsqlConnection> AwaitColdOpen(PoolSlot slot, NpgsqlConnection connection, Task opening, long start, object? site, CancellationToken cancellationToken)
    {
        var remaining = _options.AcquireTimeout - _time.GetElapsedTime(start);
        try
        {
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException();
            }

            await opening.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!opening.IsCompleted)
        {
            HandOver(slot, connection, opening);
            throw TimedOut();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !opening.IsCompleted)
        {
            HandOver(slot, connection, opening);
            throw;
        }
        catch (Exception ex) when (opening.IsFaulted || opening.IsCanceled)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            OpenFailed(slot, ex);
            throw;
        }

        if (opening.IsCompletedSuccessfully)
        {
            return Attach(slot, connection, start, site);
        }

        // The open finished at the same moment the caller gave up; the caller's exception wins, the slot is handed over.
        HandOver(slot, connection, opening);
        cancellationToken.ThrowIfCancellationRequested();
        throw TimedOut();
    }

    /// <summary>An open that completes after its caller gave up goes back as an idle, warm slot (or frees the slot if it failed).</summary>
    private void HandOver(PoolSlot slot, NpgsqlConnection connection, Task opening) =>
        opening.ContinueWith(
            static (task, state) =>
            {
                var (pool, slot, connection) = ((PostgresPool, PoolSlot, NpgsqlConnection))state!;
                if (task.IsCompletedSuccessfully)
                {
                    pool.NotePhysical(slot, connection.ProcessID, pool._time.GetTimestamp());
                    connection.Dispose();
                    slot.IdleSince = pool._time.GetTimestamp();
                    pool.ReturnSlot(slot);
                }
                else
                {
                    connection.Dispose();
                    pool.OpenFailed(slot, task.Exception?.InnerException ?? new OperationCanceledException());
                }
            },
            (this, slot, connection),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private NpgsqlConnection Attach(PoolSlot slot, NpgsqlConnection connection, long start, object? site)
    {
        var now = _time.GetTimestamp();
        NotePhysical(slot, connection.ProcessID, now);
        slot.Uses++;
        slot.RentedAt = now;
        slot.RentSite = site;
        slot.Broken = false;
        Volatile.Write(ref slot.Connection, connection);
        connection.StateChange += slot.OnStateChange;
        if (_metrics.WaitTimeEnabled)
        {
            _metrics.WaitTime(start, now, _time);
        }

        return connection;
    }

    private void NotePhysical(PoolSlot slot, int backendPid, long now)
    {
        if (backendPid == slot.BackendPid)
        {
            return;
        }

        if (slot.BackendPid != 0)
        {
            // The previous physical connection vanished without being retired here: Npgsql discarded it as broken.
            _metrics.Recycled(RecycleReason.Broken);
            PoolLog.Recycled(_logger, Name, slot.BackendPid, slot.Index, RecycleReason.Broken);
        }

        slot.BackendPid = backendPid;
        slot.PhysicalSince = now;
        slot.Uses = 0;
        slot.Lifetime = _options.MaxLifetime * (1 - (_options.MaxLifetimeJitter * Random.Shared.NextDouble()));
    }

    private void OpenFailed(PoolSlot slot, Exception exception)
    {
        PoolLog.OpenFailed(_logger, Name, slot.Index, exception);
        slot.BackendPid = 0;
        slot.Broken = false;
        slot.IdleSince = _time.GetTimestamp();
        ReturnSlot(slot);
    }

    /// <summary>Closes the slot's physical connection (the slot is held by the caller, so nobody is using it).</summary>
    private void Retire(PoolSlot slot, RecycleReason reason, bool clear = true)
    {
        var pid = slot.BackendPid;
        slot.BackendPid = 0;
        slot.Uses = 0;
        slot.Broken = false;
        if (clear && !_disposed)
        {
            // Clear closes the idle connector now; one still being returned is closed on return. Max Pool Size=1 keeps the
            // slot at one physical connection throughout, so a fresh open waits for the old one to be gone.
            slot.DataSource.Clear();
        }

        _metrics.Recycled(reason);
        PoolLog.Recycled(_logger, Name, pid, slot.Index, reason);
    }

    /// <summary>Replaces a retired slot's physical connection while the pool holds the slot, then returns the slot.</summary>
    private async Task RefillAsync(PoolSlot slot)
    {
        await Task.Yield();
        try
        {
            // Clear closes the idle connector now (one still being returned is closed on return); Max Pool Size=1 keeps the
            // slot at one physical connection throughout, so the open below waits for the old one to be gone.
            slot.DataSource.Clear();
            var connection = slot.DataSource.CreateConnection();
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(_shutdown.Token).ConfigureAwait(false);
                NotePhysical(slot, connection.ProcessID, _time.GetTimestamp());
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The server may be down or the pool disposed: the slot goes back cold and the next rent opens it.
            slot.BackendPid = 0;
            PoolLog.OpenFailed(_logger, Name, slot.Index, ex);
        }

        slot.IdleSince = _time.GetTimestamp();
        ReturnSlot(slot);
    }

    /// <summary>Gives a held slot to the first waiter, or makes it idle.</summary>
    private void ReturnSlot(PoolSlot slot)
    {
        SlotWaiter? waiter;
        lock (_lock)
        {
            waiter = _head;
            if (waiter is not null)
            {
                Unlink(waiter);
            }
            else
            {
                slot.Busy = false;
                slot.LeakReported = false;
                if (slot.BackendPid == 0 && _idleCount > 0)
                {
                    // A slot without a physical connection goes to the bottom of the LIFO stack: renters take warm slots
                    // first and pay a new connection only when no warm one is free.
                    Array.Copy(_idle, 0, _idle, 1, _idleCount);
                    _idle[0] = slot;
                    _idleCount++;
                }
                else
                {
                    _idle[_idleCount++] = slot;
                }
            }
        }

        if (waiter is not null)
        {
            slot.LeakReported = false;
            waiter.Grant(slot);
        }
    }

    private PoolSlot TakeIdle()
    {
        var slot = _idle[--_idleCount]!;
        _idle[_idleCount] = null;
        slot.Busy = true;
        return slot;
    }

    private void Enqueue(SlotWaiter waiter)
    {
        waiter.Queued = true;
        waiter.Previous = _tail;
        if (_tail is null)
        {
            _head = waiter;
        }
        else
        {
            _tail.Next = waiter;
        }

        _tail = waiter;
        _waiterCount++;

        // Every waiter has the same timeout and the queue is FIFO, so deadlines are in queue order: one timer, set for the head.
        if (_timerDue == long.MaxValue)
        {
            ArmTimeoutTimer(_head!.Deadline, _time.GetTimestamp());
        }
    }

    private void Unlink(SlotWaiter waiter)
    {
        if (waiter.Previous is null)
        {
            _head = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _tail = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Next = null;
        waiter.Previous = null;
        waiter.Queued = false;
        _waiterCount--;
    }

    private void ArmTimeoutTimer(long due, long now)
    {
        _timerDue = due;
        var delay = _time.GetElapsedTime(now, Math.Max(due, now));
        _timeoutTimer.Change(delay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : delay, Timeout.InfiniteTimeSpan);
    }

    private void OnTimeoutTimer()
    {
        List<SlotWaiter>? expired = null;
        int waiters;
        TimeSpan longestHold;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            while (_head is { } head && head.Deadline <= now)
            {
                Unlink(head);
                (expired ??= []).Add(head);
            }

            _timerDue = long.MaxValue;
            if (_head is not null && !_disposed)
            {
                ArmTimeoutTimer(_head.Deadline, now);
            }

            waiters = _waiterCount;
            longestHold = LongestHold(now);
        }

        if (expired is null)
        {
            return;
        }

        foreach (var waiter in expired)
        {
            waiter.Fail(TimedOut(waiters, longestHold));
        }
    }

    private PoolAcquireTimeoutException TimedOut()
    {
        int waiters;
        TimeSpan longestHold;
        lock (_lock)
        {
            waiters = _waiterCount;
            longestHold = LongestHold(_time.GetTimestamp());
        }

        return TimedOut(waiters, longestHold);
    }

    private PoolAcquireTimeoutException TimedOut(int waiters, TimeSpan longestHold)
    {
        _metrics.Timeout();
        PoolLog.AcquireTimedOut(_logger, Name, _options.AcquireTimeout.TotalSeconds, MaxSize, waiters, longestHold.TotalSeconds);
        return new PoolAcquireTimeoutException(Name, MaxSize, waiters, longestHold, _options.AcquireTimeout);
    }

    private TimeSpan LongestHold(long now)
    {
        var longest = TimeSpan.Zero;
        foreach (var slot in _slots)
        {
            if (Volatile.Read(ref slot.Connection) is not null)
            {
                var held = _time.GetElapsedTime(slot.RentedAt, now);
                if (held > longest)
                {
                    longest = held;
                }
            }
        }

        return longest;
    }

    private void RunMaintenance()
    {
        if (_disposed)
        {
            return;
        }

        List<(PoolSlot Slot, RecycleReason Reason)>? retire = null;
        List<(PoolSlot Slot, TimeSpan Held, object? Site, int Pid)>? leaks = null;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            var kept = 0;
            for (var i = 0; i < _idleCount; i++)
            {
                var slot = _idle[i]!;
                RecycleReason? reason = null;
                if (slot.BackendPid != 0)
                {
                    if (_time.GetElapsedTime(slot.IdleSince, now) >= _options.IdleTimeout)
                    {
                        reason = RecycleReason.Idle;
                    }
                    else if (_time.GetElapsedTime(slot.PhysicalSince, now) >= slot.Lifetime)
                    {
                        reason = RecycleReason.Lifetime;
                    }
                }

                if (reason is { } r)
                {
                    slot.Busy = true;
                    (retire ??= []).Add((slot, r));
                }
                else
                {
                    _idle[kept++] = slot;
                }
            }

            for (var i = kept; i < _idleCount; i++)
            {
                _idle[i] = null;
            }

            _idleCount = kept;

            if (_options.LeakThreshold is { } threshold)
            {
                foreach (var slot in _slots)
                {
                    if (Volatile.Read(ref slot.Connection) is not null && !slot.LeakReported)
                    {
                        var held = _time.GetElapsedTime(slot.RentedAt, now);
                        if (held >= threshold)
                        {
                            slot.LeakReported = true;
                            (leaks ??= []).Add((slot, held, slot.RentSite, slot.BackendPid));
                        }
                    }
                }
            }
        }

        if (retire is not null)
        {
            foreach (var (slot, reason) in retire)
            {
                if (reason == RecycleReason.Lifetime && !_disposed)
                {
                    // A connection that is still in use but too old is replaced in the background, like one that reached
                    // MaxUses, so the next renter gets a warm connection instead of paying the reconnect.
                    Retire(slot, reason, clear: false);
                    _ = RefillAsync(slot);
                    continue;
                }

                // Idle too long: the point is to shrink the pool, so the slot goes back without a connection (ReturnSlot
                // puts it below the warm ones, so it is only opened again when no warm slot is free).
                Retire(slot, reason);
                slot.IdleSince = _time.GetTimestamp();
                ReturnSlot(slot);
            }
        }

        if (leaks is not null)
        {
            foreach (var (_, held, site, pid) in leaks)
            {
                PoolLog.LeakSuspected(
                    _logger, Name, pid, held.TotalSeconds, _options.LeakThreshold!.Value.TotalSeconds,
                    site?.ToString() ?? "unknown (rent with RentAsync, or set CaptureRentStackTrace = true, to see where)");
            }
        }
    }

    private void OnSaturationTimer()
    {
        if (_disposed || Interlocked.Exchange(ref _saturationSampling, 1) == 1)
        {
            return;
        }

        _ = SampleOnTimerAsync();
    }

    private async Task SampleOnTimerAsync()
    {
        try
        {
            var wasAlerting = Saturation.LastReading?.IsAlerting ?? false;
            var reading = await Saturation.SampleAsync(CancellationToken.None).ConfigureAwait(false);
            if (reading.IsAlerting && !wasAlerting)
            {
                PoolLog.SaturationAlert(_logger, Name, reading.ServerConnections, reading.MaxConnections, reading.Utilization, Saturation.Rule.Threshold, reading.AboveThresholdSince);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or PostgresPoolException or TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            PoolLog.SaturationSampleFailed(_logger, Name, ex);
        }
        finally
        {
            Volatile.Write(ref _saturationSampling, 0);
        }
    }

    private void Shutdown()
    {
        List<SlotWaiter> waiters = [];
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_head is { } head)
            {
                Unlink(head);
                waiters.Add(head);
            }
        }

        _shutdown.Cancel();
        _timeoutTimer.Dispose();
        _maintenanceTimer.Dispose();
        _saturationTimer?.Dispose();
        foreach (var waiter in waiters)
        {
            waiter.Fail(new ObjectDisposedException(nameof(PostgresPool), $"Pool '{Name}' was disposed while the caller waited for a connection."));
        }

        foreach (var slot in _slots)
        {
            slot.DataSource.Dispose();
        }

        _metrics.Dispose();
        _shutdown.Dispose();
    }
}
