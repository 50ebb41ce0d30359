using System.Globalization;
using System.Text;

namespace Resilience.Pooling;

/// <summary>The fleet connection budget rule, as a pure function of the options and the server's limits.</summary>
public static class FleetBudget
{
    /// <summary>Checks whether the fleet described by <paramref name="options"/> fits in what <paramref name="server"/> admits minus the headroom.</summary>
    public static FleetBudgetReport Evaluate(PostgresPoolOptions options, ServerLimits server)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(server);
        var fleet = options.Fleet ?? new FleetBudgetOptions();
        var ci = CultureInfo.InvariantCulture;

        int clients;
        string clientText;
        if (fleet.TotalConnections is { } total)
        {
            clients = total;
            clientText = string.Create(ci, $"fleet TotalConnections {total}");
        }
        else if (fleet.Boxes is { } boxes && fleet.WorkersPerBox is { } workers)
        {
            clients = checked(boxes * workers * options.MaxSize);
            clientText = string.Create(ci, $"{boxes} boxes x {workers} workers x MaxSize {options.MaxSize} = {clients} connections");
        }
        else
        {
            clients = options.MaxSize;
            clientText = string.Create(ci, $"this pool alone (fleet not described): MaxSize {options.MaxSize} connections");
        }

        var available = server.Admitted - fleet.Headroom;
        var availableText = string.Create(ci,
            $"max_connections {server.MaxConnections} - superuser_reserved_connections {server.SuperuserReservedConnections} - " +
            $"reserved_connections {server.ReservedConnections} - headroom {fleet.Headroom} = {available}");

        var fits = true;
        var text = new StringBuilder();
        int? demand;
        if (options.Target == PoolTarget.PgBouncerTransaction)
        {
            text.Append(ci, $"through PgBouncer: clients {clientText}");
            if (fleet.PgBouncerMaxClientConnections is { } maxClients)
            {
                var ok = clients <= maxClients;
                fits &= ok;
                text.Append(ci, $" {(ok ? "<=" : ">")} PgBouncer max_client_conn {maxClients}");
            }
            else
            {
                text.Append(" (PgBouncer max_client_conn not declared, not checked)");
            }

            demand = fleet.PgBouncerServerConnections;
            if (demand is { } serverConnections)
            {
                var ok = serverConnections <= available;
                fits &= ok;
                text.Append(ci, $"; PgBouncer server connections {serverConnections} {(ok ? "<=" : ">")} {availableText}");
            }
            else
            {
                text.Append(ci, $"; server side not checked (declare Fleet.PgBouncerServerConnections); server admits {availableText}");
            }
        }
        else
        {
            demand = clients;
            fits = clients <= available;
            text.Append(ci, $"{clientText} {(fits ? "<=" : ">")} {availableText}");
        }

        text.Append(fits ? "; the fleet fits." : "; the fleet could exceed what the server admits. Lower MaxSize, workers or boxes, or route through PgBouncer.");
        return new FleetBudgetReport
        {
            Fits = fits,
            Server = server,
            FleetConnections = clients,
            ServerConnectionDemand = demand,
            Available = available,
            Headroom = fleet.Headroom,
            Arithmetic = text.ToString(),
        };
    }
}
