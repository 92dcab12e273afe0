using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// Reads a sign-in record (JSON from the native library, with Graph's names or the
    /// PartnerCenter module's PascalCase ones: a name matches with its first letter in either
    /// case) into a <see cref="SignIn"/>.
    /// A record that does not fit the type (a nested property this version does not know, a value
    /// of another kind) throws <see cref="JsonException"/>, and <see cref="SignInRecords"/> reads it
    /// untyped instead; a top-level property the type lacks is kept in <see cref="SignIn.Unknown"/>.
    /// </summary>
    /// <remarks>
    /// A table per type rather than System.Text.Json's source generator: a property is found by
    /// comparing its UTF-8 name with the one that followed the last property found (records come
    /// with their properties in one order). A page of a thousand v1.0 sign-ins reads in about
    /// four fifths of the time the generated metadata took (2.5 against 3.0 ms, warm), and a
    /// fresh pwsh compiles some 300 fewer methods while the cmdlet runs. Properties whose values
    /// come from a small set are read as labels (<see cref="LabelTable"/>): 200,000 sign-ins held
    /// in a variable took 500 MB of pwsh instead of 640, and the cmdlet wrote them about 8% sooner.
    /// </remarks>
    internal static class SignInReader
    {
        private static readonly PropertyReaders<SignInStatus> StatusProperties = new PropertyReaders<SignInStatus>(() => new SignInStatus())
            .Int32(nameof(SignInStatus.ErrorCode), (o, v) => o.ErrorCode = v)
            .Label(nameof(SignInStatus.FailureReason), (o, v) => o.FailureReason = v)
            .Label(nameof(SignInStatus.AdditionalDetails), (o, v) => o.AdditionalDetails = v);

        private static readonly PropertyReaders<AuthenticationDetail> AuthenticationDetailProperties = new PropertyReaders<AuthenticationDetail>(() => new AuthenticationDetail())
            .Time(nameof(AuthenticationDetail.AuthenticationStepDateTime), (o, v) => o.AuthenticationStepDateTime = v)
            .Label(nameof(AuthenticationDetail.AuthenticationMethod), (o, v) => o.AuthenticationMethod = v)
            .Label(nameof(AuthenticationDetail.AuthenticationMethodDetail), (o, v) => o.AuthenticationMethodDetail = v)
            .Flag(nameof(AuthenticationDetail.Succeeded), (o, v) => o.Succeeded = v)
            .Label(nameof(AuthenticationDetail.AuthenticationStepResultDetail), (o, v) => o.AuthenticationStepResultDetail = v)
            .Label(nameof(AuthenticationDetail.AuthenticationStepRequirement), (o, v) => o.AuthenticationStepRequirement = v);

        private static readonly PropertyReaders<MfaDetail> MfaDetailProperties = new PropertyReaders<MfaDetail>(() => new MfaDetail())
            .Label(nameof(MfaDetail.AuthMethod), (o, v) => o.AuthMethod = v)
            .Label(nameof(MfaDetail.AuthDetail), (o, v) => o.AuthDetail = v);

        private static readonly PropertyReaders<AuthenticationRequirementPolicy> RequirementPolicyProperties = new PropertyReaders<AuthenticationRequirementPolicy>(() => new AuthenticationRequirementPolicy())
            .Label(nameof(AuthenticationRequirementPolicy.RequirementProvider), (o, v) => o.RequirementProvider = v)
            .Label(nameof(AuthenticationRequirementPolicy.Detail), (o, v) => o.Detail = v);

        private static readonly PropertyReaders<KeyValue> KeyValueProperties = new PropertyReaders<KeyValue>(() => new KeyValue())
            .Label(nameof(KeyValue.Key), (o, v) => o.Key = v)
            .Text(nameof(KeyValue.Value), (o, v) => o.Value = v);

        private static readonly PropertyReaders<AuthenticationContext> AuthenticationContextProperties = new PropertyReaders<AuthenticationContext>(() => new AuthenticationContext())
            .Label(nameof(AuthenticationContext.Id), (o, v) => o.Id = v)
            .Label(nameof(AuthenticationContext.Detail), (o, v) => o.Detail = v);

        private static readonly PropertyReaders<AppliedConditionalAccessPolicy> ConditionalAccessPolicyProperties = new PropertyReaders<AppliedConditionalAccessPolicy>(() => new AppliedConditionalAccessPolicy())
            .Label(nameof(AppliedConditionalAccessPolicy.Id), (o, v) => o.Id = v)
            .Label(nameof(AppliedConditionalAccessPolicy.DisplayName), (o, v) => o.DisplayName = v)
            .Labels(nameof(AppliedConditionalAccessPolicy.EnforcedGrantControls), (o, v) => o.EnforcedGrantControls = v)
            .Labels(nameof(AppliedConditionalAccessPolicy.EnforcedSessionControls), (o, v) => o.EnforcedSessionControls = v)
            .Label(nameof(AppliedConditionalAccessPolicy.Result), (o, v) => o.Result = v);

        private static readonly PropertyReaders<SessionLifetimePolicy> SessionLifetimePolicyProperties = new PropertyReaders<SessionLifetimePolicy>(() => new SessionLifetimePolicy())
            .Label(nameof(SessionLifetimePolicy.ExpirationRequirement), (o, v) => o.ExpirationRequirement = v)
            .Label(nameof(SessionLifetimePolicy.Detail), (o, v) => o.Detail = v);

        private static readonly PropertyReaders<DeviceDetail> DeviceDetailProperties = new PropertyReaders<DeviceDetail>(() => new DeviceDetail())
            .Text(nameof(DeviceDetail.DeviceId), (o, v) => o.DeviceId = v)
            .Text(nameof(DeviceDetail.DisplayName), (o, v) => o.DisplayName = v)
            .Label(nameof(DeviceDetail.OperatingSystem), (o, v) => o.OperatingSystem = v)
            .Label(nameof(DeviceDetail.Browser), (o, v) => o.Browser = v)
            .Flag(nameof(DeviceDetail.IsCompliant), (o, v) => o.IsCompliant = v)
            .Flag(nameof(DeviceDetail.IsManaged), (o, v) => o.IsManaged = v)
            .Label(nameof(DeviceDetail.TrustType), (o, v) => o.TrustType = v);

        private static readonly PropertyReaders<GeoCoordinates> GeoCoordinatesProperties = new PropertyReaders<GeoCoordinates>(() => new GeoCoordinates())
            .Double(nameof(GeoCoordinates.Altitude), (o, v) => o.Altitude = v)
            .Double(nameof(GeoCoordinates.Latitude), (o, v) => o.Latitude = v)
            .Double(nameof(GeoCoordinates.Longitude), (o, v) => o.Longitude = v);

        private static readonly PropertyReaders<SignInLocation> LocationProperties = new PropertyReaders<SignInLocation>(() => new SignInLocation())
            .Label(nameof(SignInLocation.City), (o, v) => o.City = v)
            .Label(nameof(SignInLocation.State), (o, v) => o.State = v)
            .Label(nameof(SignInLocation.CountryOrRegion), (o, v) => o.CountryOrRegion = v)
            .Object(nameof(SignInLocation.GeoCoordinates), GeoCoordinatesProperties, (o, v) => o.GeoCoordinates = v);

        private static readonly PropertyReaders<NetworkLocationDetail> NetworkLocationDetailProperties = new PropertyReaders<NetworkLocationDetail>(() => new NetworkLocationDetail())
            .Label(nameof(NetworkLocationDetail.NetworkType), (o, v) => o.NetworkType = v)
            .Texts(nameof(NetworkLocationDetail.NetworkNames), (o, v) => o.NetworkNames = v);

        private static readonly PropertyReaders<ManagedIdentity> ManagedIdentityProperties = new PropertyReaders<ManagedIdentity>(() => new ManagedIdentity())
            .Label(nameof(ManagedIdentity.MsiType), (o, v) => o.MsiType = v)
            .Text(nameof(ManagedIdentity.AssociatedResourceId), (o, v) => o.AssociatedResourceId = v)
            .Text(nameof(ManagedIdentity.FederatedTokenId), (o, v) => o.FederatedTokenId = v)
            .Text(nameof(ManagedIdentity.FederatedTokenIssuer), (o, v) => o.FederatedTokenIssuer = v);

        private static readonly PropertyReaders<SignIn> SignInProperties = new PropertyReaders<SignIn>(() => new SignIn(), (o, name, value) => (o.Unknown ??= new Dictionary<string, JsonElement>())[SignInRecords.Pascal(name)] = value)
            .Text(nameof(SignIn.Id), (o, v) => o.Id = v)
            .Time(nameof(SignIn.CreatedDateTime), (o, v) => o.CreatedDateTime = v)
            .Text(nameof(SignIn.UserDisplayName), (o, v) => o.UserDisplayName = v)
            .Text(nameof(SignIn.UserPrincipalName), (o, v) => o.UserPrincipalName = v)
            .Text(nameof(SignIn.UserId), (o, v) => o.UserId = v)
            .Label(nameof(SignIn.UserType), (o, v) => o.UserType = v)
            .Label(nameof(SignIn.AppId), (o, v) => o.AppId = v)
            .Label(nameof(SignIn.AppDisplayName), (o, v) => o.AppDisplayName = v)
            .Text(nameof(SignIn.IpAddress), (o, v) => o.IpAddress = v)
            .Label(nameof(SignIn.ClientAppUsed), (o, v) => o.ClientAppUsed = v)
            .Label(nameof(SignIn.UserAgent), (o, v) => o.UserAgent = v)
            .Text(nameof(SignIn.CorrelationId), (o, v) => o.CorrelationId = v)
            .Label(nameof(SignIn.ConditionalAccessStatus), (o, v) => o.ConditionalAccessStatus = v)
            .Flag(nameof(SignIn.IsInteractive), (o, v) => o.IsInteractive = v)
            .Labels(nameof(SignIn.SignInEventTypes), (o, v) => o.SignInEventTypes = v)
            .Object(nameof(SignIn.Status), StatusProperties, (o, v) => o.Status = v)
            .Label(nameof(SignIn.ResourceDisplayName), (o, v) => o.ResourceDisplayName = v)
            .Label(nameof(SignIn.ResourceId), (o, v) => o.ResourceId = v)
            .Label(nameof(SignIn.ResourceTenantId), (o, v) => o.ResourceTenantId = v)
            .Label(nameof(SignIn.ResourceOwnerTenantId), (o, v) => o.ResourceOwnerTenantId = v)
            .Label(nameof(SignIn.ResourceServicePrincipalId), (o, v) => o.ResourceServicePrincipalId = v)
            .Label(nameof(SignIn.HomeTenantId), (o, v) => o.HomeTenantId = v)
            .Label(nameof(SignIn.HomeTenantName), (o, v) => o.HomeTenantName = v)
            .Label(nameof(SignIn.AppOwnerTenantId), (o, v) => o.AppOwnerTenantId = v)
            .Label(nameof(SignIn.CrossTenantAccessType), (o, v) => o.CrossTenantAccessType = v)
            .Flag(nameof(SignIn.IsTenantRestricted), (o, v) => o.IsTenantRestricted = v)
            .Label(nameof(SignIn.AuthenticationRequirement), (o, v) => o.AuthenticationRequirement = v)
            .Array(nameof(SignIn.AuthenticationDetails), AuthenticationDetailProperties, (o, v) => o.AuthenticationDetails = v)
            .Labels(nameof(SignIn.AuthenticationMethodsUsed), (o, v) => o.AuthenticationMethodsUsed = v)
            .Object(nameof(SignIn.MfaDetail), MfaDetailProperties, (o, v) => o.MfaDetail = SignInRecords.IsEmpty(v) ? null : v)
            .Array(nameof(SignIn.AuthenticationRequirementPolicies), RequirementPolicyProperties, (o, v) => o.AuthenticationRequirementPolicies = v)
            .Array(nameof(SignIn.AuthenticationProcessingDetails), KeyValueProperties, (o, v) => o.AuthenticationProcessingDetails = v)
            .Array(nameof(SignIn.AuthenticationContextClassReferences), AuthenticationContextProperties, (o, v) => o.AuthenticationContextClassReferences = v)
            .Label(nameof(SignIn.AuthenticationProtocol), (o, v) => o.AuthenticationProtocol = v)
            .Label(nameof(SignIn.IncomingTokenType), (o, v) => o.IncomingTokenType = v)
            .Array(nameof(SignIn.AppliedConditionalAccessPolicies), ConditionalAccessPolicyProperties, (o, v) => o.AppliedConditionalAccessPolicies = v)
            .Array(nameof(SignIn.SessionLifetimePolicies), SessionLifetimePolicyProperties, (o, v) => o.SessionLifetimePolicies = v)
            .Label(nameof(SignIn.RiskDetail), (o, v) => o.RiskDetail = v)
            .Label(nameof(SignIn.RiskLevelAggregated), (o, v) => o.RiskLevelAggregated = v)
            .Label(nameof(SignIn.RiskLevelDuringSignIn), (o, v) => o.RiskLevelDuringSignIn = v)
            .Label(nameof(SignIn.RiskState), (o, v) => o.RiskState = v)
            .Labels(nameof(SignIn.RiskEventTypes), (o, v) => o.RiskEventTypes = v)
            .Labels(nameof(SignIn.RiskEventTypes_v2), (o, v) => o.RiskEventTypes_v2 = v)
            .Flag(nameof(SignIn.FlaggedForReview), (o, v) => o.FlaggedForReview = v)
            .Object(nameof(SignIn.DeviceDetail), DeviceDetailProperties, (o, v) => o.DeviceDetail = v)
            .Object(nameof(SignIn.Location), LocationProperties, (o, v) => o.Location = v)
            .Array(nameof(SignIn.NetworkLocationDetails), NetworkLocationDetailProperties, (o, v) => o.NetworkLocationDetails = v)
            .Int64(nameof(SignIn.AutonomousSystemNumber), (o, v) => o.AutonomousSystemNumber = v)
            .Text(nameof(SignIn.GlobalSecureAccessIpAddress), (o, v) => o.GlobalSecureAccessIpAddress = v)
            .Text(nameof(SignIn.IpAddressFromResourceProvider), (o, v) => o.IpAddressFromResourceProvider = v)
            .Flag(nameof(SignIn.IsThroughGlobalSecureAccess), (o, v) => o.IsThroughGlobalSecureAccess = v)
            .Text(nameof(SignIn.OriginalRequestId), (o, v) => o.OriginalRequestId = v)
            .Text(nameof(SignIn.UniqueTokenIdentifier), (o, v) => o.UniqueTokenIdentifier = v)
            .Text(nameof(SignIn.SessionId), (o, v) => o.SessionId = v)
            .Label(nameof(SignIn.TokenIssuerName), (o, v) => o.TokenIssuerName = v)
            .Label(nameof(SignIn.TokenIssuerType), (o, v) => o.TokenIssuerType = v)
            .Int32(nameof(SignIn.ProcessingTimeInMilliseconds), (o, v) => o.ProcessingTimeInMilliseconds = v)
            .Text(nameof(SignIn.SignInIdentifier), (o, v) => o.SignInIdentifier = v)
            .Label(nameof(SignIn.SignInIdentifierType), (o, v) => o.SignInIdentifierType = v)
            .Label(nameof(SignIn.OriginalTransferMethod), (o, v) => o.OriginalTransferMethod = v)
            .Label(nameof(SignIn.SignInTokenProtectionStatus), (o, v) => o.SignInTokenProtectionStatus = v)
            .Label(nameof(SignIn.AppTokenProtectionStatus), (o, v) => o.AppTokenProtectionStatus = v)
            .Text(nameof(SignIn.ServicePrincipalId), (o, v) => o.ServicePrincipalId = v)
            .Text(nameof(SignIn.ServicePrincipalName), (o, v) => o.ServicePrincipalName = v)
            .Text(nameof(SignIn.ServicePrincipalCredentialKeyId), (o, v) => o.ServicePrincipalCredentialKeyId = v)
            .Text(nameof(SignIn.ServicePrincipalCredentialThumbprint), (o, v) => o.ServicePrincipalCredentialThumbprint = v)
            .Label(nameof(SignIn.ClientCredentialType), (o, v) => o.ClientCredentialType = v)
            .Text(nameof(SignIn.FederatedCredentialId), (o, v) => o.FederatedCredentialId = v)
            .Object(nameof(SignIn.ManagedServiceIdentity), ManagedIdentityProperties, (o, v) => o.ManagedServiceIdentity = v)
            .Text(nameof(SignIn.AzureResourceId), (o, v) => o.AzureResourceId = v)
            .Element(nameof(SignIn.ConditionalAccessAudiences), (o, v) => o.ConditionalAccessAudiences = v)
            .Element(nameof(SignIn.PrivateLinkDetails), (o, v) => o.PrivateLinkDetails = v)
            .Element(nameof(SignIn.AuthenticationAppDeviceDetails), (o, v) => o.AuthenticationAppDeviceDetails = v)
            .Element(nameof(SignIn.AuthenticationAppPolicyEvaluationDetails), (o, v) => o.AuthenticationAppPolicyEvaluationDetails = v)
            .Element(nameof(SignIn.AppliedEventListeners), (o, v) => o.AppliedEventListeners = v)
            .Label(nameof(SignIn.TenantId), (o, v) => o.TenantId = v);

        /// <summary>Reads the object the reader is on; leaves the reader on its end.</summary>
        internal static SignIn Read(ref Utf8JsonReader reader) => SignInProperties.Read(ref reader) ?? throw PropertyReaders<SignIn>.Unfit();
    }

    /// <summary>
    /// How to read one type's properties: for each UTF-8 name, what to do with its value. A name
    /// is first compared with the one that followed the last name found.
    /// </summary>
    internal sealed class PropertyReaders<T>
        where T : class
    {
        internal delegate void ReadInto(T target, ref Utf8JsonReader reader);

        internal delegate void KeepUnknown(T target, string name, JsonElement value);

        private readonly Func<T> _create;
        private readonly KeepUnknown? _keepUnknown;
        /// <summary>PascalCase names (the type's), and the same with Graph's lower-case first letter.</summary>
        private readonly List<byte[]> _names = new();
        private readonly List<byte[]> _graphNames = new();
        private readonly List<ReadInto> _readers = new();

        /// <summary>Where the name after the last one found is; shared by threads, as a guess only.</summary>
        private int _next;

        /// <param name="create">Makes an empty object.</param>
        /// <param name="keepUnknown">Keeps a property the table lacks; null: such an object does not fit.</param>
        internal PropertyReaders(Func<T> create, KeepUnknown? keepUnknown = null)
        {
            _create = create;
            _keepUnknown = keepUnknown;
        }

        internal PropertyReaders<T> Text(string name, Action<T, string?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadText(ref r)));

        /// <summary>
        /// Text whose values come from a small set (client apps, statuses, application names):
        /// each value is decoded once and its string shared by the records that carry it.
        /// </summary>
        internal PropertyReaders<T> Label(string name, Action<T, string?> set)
        {
            var labels = new LabelTable();
            return Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadLabel(ref r, labels)));
        }

        /// <summary>An array of <see cref="Label"/> values (event types, methods, controls).</summary>
        internal PropertyReaders<T> Labels(string name, Action<T, string[]?> set)
        {
            var labels = new LabelTable();
            return Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadArray<string>(ref r, (ref Utf8JsonReader e) => ReadLabel(ref e, labels))));
        }

        /// <summary>An array of strings; an element may be null, as Graph sent it.</summary>
        internal PropertyReaders<T> Texts(string name, Action<T, string[]?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadArray<string>(ref r, ReadText)));

        internal PropertyReaders<T> Time(string name, Action<T, DateTimeOffset?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadScalar(ref r, JsonTokenType.String, TryGetTime)));

        internal PropertyReaders<T> Flag(string name, Action<T, bool?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadFlag(ref r)));

        internal PropertyReaders<T> Int32(string name, Action<T, int?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadScalar(ref r, JsonTokenType.Number, TryGetInt32)));

        internal PropertyReaders<T> Int64(string name, Action<T, long?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadScalar(ref r, JsonTokenType.Number, TryGetInt64)));

        internal PropertyReaders<T> Double(string name, Action<T, double?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadScalar(ref r, JsonTokenType.Number, TryGetDouble)));

        /// <summary>A value whose shape is left open, as sent (<see cref="SignInRecords"/> turns it into PowerShell values).</summary>
        internal PropertyReaders<T> Element(string name, Action<T, object?> set) => Add(name, (T o, ref Utf8JsonReader r) => set(o, r.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref r)));

        internal PropertyReaders<T> Object<TValue>(string name, PropertyReaders<TValue> properties, Action<T, TValue?> set)
            where TValue : class
        {
            return Add(name, (T o, ref Utf8JsonReader r) => set(o, properties.Read(ref r)));
        }

        /// <summary>An array of objects; an element may be null, as Graph sent it.</summary>
        internal PropertyReaders<T> Array<TValue>(string name, PropertyReaders<TValue> properties, Action<T, TValue[]?> set)
            where TValue : class
        {
            return Add(name, (T o, ref Utf8JsonReader r) => set(o, ReadArray<TValue>(ref r, properties.Read)));
        }

        /// <summary>Reads the object (or null) the reader is on; leaves the reader on its end.</summary>
        internal T? Read(ref Utf8JsonReader r)
        {
            if (r.TokenType == JsonTokenType.Null)
            {
                return null;
            }
            Expect(r.TokenType == JsonTokenType.StartObject);
            var target = _create();
            while (true)
            {
                Expect(r.Read());
                if (r.TokenType != JsonTokenType.PropertyName)
                {
                    return target;
                }
                var index = Find(ref r);
                if (index < 0)
                {
                    var name = r.GetString()!;
                    Expect(r.Read());
                    if (_keepUnknown == null)
                    {
                        throw Unfit();
                    }
                    _keepUnknown(target, name, JsonElement.ParseValue(ref r));
                    continue;
                }
                Expect(r.Read());
                _readers[index](target, ref r);
            }
        }

        internal static JsonException Unfit() => new($"the sign-in does not fit the {typeof(T).Name} type");

        private PropertyReaders<T> Add(string name, ReadInto read)
        {
            var utf8 = Encoding.UTF8.GetBytes(name);
            if (utf8[0] is < (byte)'A' or > (byte)'Z')
            {
                throw new InvalidOperationException($"{typeof(T).Name}.{name}: a name starts with a capital letter (IsName compares the first one in either case).");
            }
            if (_names.Exists(n => n.AsSpan().SequenceEqual(utf8)))
            {
                throw new InvalidOperationException($"{typeof(T).Name}.{name} is read twice.");
            }
            var graph = (byte[])utf8.Clone();
            graph[0] = (byte)(graph[0] | 0x20);
            _names.Add(utf8);
            _graphNames.Add(graph);
            _readers.Add(read);
            return this;
        }

        /// <summary>Whether the reader is on property <paramref name="index"/>'s name, its first letter in either case.</summary>
        private bool IsName(ref Utf8JsonReader r, int index)
        {
            var name = _names[index];
            if (r.ValueIsEscaped || r.HasValueSequence)
            {
                return r.ValueTextEquals(name) || r.ValueTextEquals(_graphNames[index]);
            }
            var text = r.ValueSpan;
            // name[0] is a capital letter: OR-ing 0x20 into a byte gives its small letter only
            // from that capital or that small letter.
            return text.Length == name.Length && (text[0] | 0x20) == (name[0] | 0x20) && text.Slice(1).SequenceEqual(name.AsSpan(1));
        }

        /// <summary>The index of the property name the reader is on, or -1.</summary>
        private int Find(ref Utf8JsonReader r)
        {
            var next = _next;
            if (next < _names.Count && IsName(ref r, next))
            {
                _next = next + 1;
                return next;
            }
            for (var i = 0; i < _names.Count; i++)
            {
                if (IsName(ref r, i))
                {
                    _next = i + 1;
                    return i;
                }
            }
            return -1;
        }

        private static string? ReadText(ref Utf8JsonReader r)
        {
            if (r.TokenType == JsonTokenType.Null) return null;
            Expect(r.TokenType == JsonTokenType.String);
            return r.GetString();
        }

        /// <summary>A string through <paramref name="labels"/>; a null or anything else as <see cref="ReadText"/> takes it.</summary>
        private static string? ReadLabel(ref Utf8JsonReader r, LabelTable labels) => r.TokenType == JsonTokenType.String ? labels.Get(ref r) : ReadText(ref r);

        private static bool? ReadFlag(ref Utf8JsonReader r)
        {
            return r.TokenType switch
            {
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                JsonTokenType.Null => null,
                _ => throw Unfit(),
            };
        }

        private delegate bool TryGet<TValue>(ref Utf8JsonReader r, out TValue value);

        private static readonly TryGet<DateTimeOffset> TryGetTime = (ref Utf8JsonReader r, out DateTimeOffset v) => r.TryGetDateTimeOffset(out v);
        private static readonly TryGet<int> TryGetInt32 = (ref Utf8JsonReader r, out int v) => r.TryGetInt32(out v);
        private static readonly TryGet<long> TryGetInt64 = (ref Utf8JsonReader r, out long v) => r.TryGetInt64(out v);
        private static readonly TryGet<double> TryGetDouble = (ref Utf8JsonReader r, out double v) => r.TryGetDouble(out v);

        /// <summary>A null, or a token of <paramref name="kind"/> that <paramref name="tryGet"/> reads; anything else does not fit.</summary>
        private static TValue? ReadScalar<TValue>(ref Utf8JsonReader r, JsonTokenType kind, TryGet<TValue> tryGet)
            where TValue : struct
        {
            if (r.TokenType == JsonTokenType.Null) return null;
            if (r.TokenType != kind || !tryGet(ref r, out var value))
            {
                throw Unfit();
            }
            return value;
        }

        private delegate TValue? ReadValue<TValue>(ref Utf8JsonReader r)
            where TValue : class;

        private static TValue[]? ReadArray<TValue>(ref Utf8JsonReader r, ReadValue<TValue> item)
            where TValue : class
        {
            if (r.TokenType == JsonTokenType.Null) return null;
            Expect(r.TokenType == JsonTokenType.StartArray);
            Expect(r.Read());
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return System.Array.Empty<TValue>();
            }
            // The models' arrays say their elements are not null, as the Graph SDK's do; Graph's may be.
            var items = new List<TValue>();
            do
            {
                items.Add(item(ref r)!);
                Expect(r.Read());
            }
            while (r.TokenType != JsonTokenType.EndArray);
            return items.ToArray();
        }

        private static void Expect(bool condition)
        {
            if (!condition)
            {
                throw Unfit();
            }
        }
    }

    /// <summary>
    /// The strings one property's values were last read as, by their UTF-8 text: a value seen
    /// before is neither decoded nor allocated again (a page of a thousand sign-ins carries the
    /// same few client apps, statuses and application names a thousand times). A slot keeps the
    /// last value that hashed to it; slots hold immutable entries, so threads share them without
    /// locks (a lost write only costs a decode).
    /// </summary>
    internal sealed class LabelTable
    {
        private const int Slots = 64;

        /// <summary>Longer values (rare: user agents, free text) are decoded each time, which bounds what a table keeps.</summary>
        private const int LongestValue = 256;

        private readonly Entry?[] _slots = new Entry?[Slots];

        /// <summary>The string token the reader is on.</summary>
        internal string Get(ref Utf8JsonReader r)
        {
            if (r.ValueIsEscaped || r.HasValueSequence || r.ValueSpan.Length > LongestValue)
            {
                return r.GetString()!;
            }
            var utf8 = r.ValueSpan;
            var hash = new HashCode();
            hash.AddBytes(utf8);
            var slot = (uint)hash.ToHashCode() % Slots;
            var entry = _slots[slot];
            if (entry != null && utf8.SequenceEqual(entry.Utf8))
            {
                return entry.Text;
            }
            var text = r.GetString()!;
            _slots[slot] = new Entry(utf8.ToArray(), text);
            return text;
        }

        private sealed class Entry
        {
            internal Entry(byte[] utf8, string text)
            {
                Utf8 = utf8;
                Text = text;
            }

            internal byte[] Utf8 { get; }

            internal string Text { get; }
        }
    }
}
