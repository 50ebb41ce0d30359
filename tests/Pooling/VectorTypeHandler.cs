using System.Data;
using Dapper;
using Pgvector;

namespace Resilience.Pooling.Tests;

/// <summary>Lets Dapper pass <see cref="Vector"/> parameters straight to Npgsql (which knows the type through UseVector()).</summary>
internal sealed class VectorTypeHandler : SqlMapper.TypeHandler<Vector?>
{
    public static void Register() => SqlMapper.AddTypeHandler(new VectorTypeHandler());

    public override Vector? Parse(object value) => (Vector)value;

    public override void SetValue(IDbDataParameter parameter, Vector? value) => parameter.Value = value;
}
