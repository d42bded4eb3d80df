// The TLS client side of a local Elasticsearch node, performed by the real JDK.
//
// One long-lived process per test session. Requests and answers are JSON lines on stdin/stdout,
// matched by "id", so several handshakes run at once. Each request describes one outbound
// connection the way Elasticsearch configures its SSLEngine (SSLService / SslConfiguration,
// SecurityNetty4Transport): a PKIX trust manager over the configured PEM CAs (or the JDK's
// default trust when none is configured), verification_mode full (HTTPS endpoint
// identification against the address host) / certificate / none (trust everything), SNI from
// server_name, and a client key and certificate when the profile presents one. The answer says
// whether the handshake completed, and otherwise the exception class, its message and causes,
// with the chain the server presented. Plain JDK, no dependency. EOF on stdin ends the process.
//
// A completed session stays with the JDK: it listens once on a loopback port ("relay_port")
// and relays plaintext between that port and the TLS session, so the twin speaks through the
// very connection the JDK judged. How the session ended (a TLS alert after the handshake, the
// peer closing) is kept and answered by {"op": "ended", "session": id}.

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

public final class TwinTlsClient {
    private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    private static final int RELAY_ACCEPT_MS = 10000;
    private static final Map<String, Map<String, Object>> ENDINGS = new ConcurrentHashMap<>();
    private static ExecutorService pool;

    public static void main(String[] args) throws Exception {
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        synchronized (OUT) {
            OUT.println("{\"ready\":true,\"java\":" + Json.quote(System.getProperty("java.version")) + "}");
            OUT.flush();
        }
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            final String request = line;
            pool.execute(() -> answer(request));
        }
        System.exit(0);
    }

    private static void answer(String line) {
        Map<String, Object> result = new LinkedHashMap<>();
        Object id = null;
        try {
            Map<String, Object> req = Json.parseObject(line);
            id = req.get("id");
            result.put("id", id);
            if ("ended".equals(req.get("op"))) {
                Map<String, Object> ending = ENDINGS.remove((String) req.get("session"));
                result.put("ending", ending);
            } else {
                handshake(req, result);
            }
        } catch (Exception e) {
            result.put("id", id);
            result.put("connected", false);
            result.put("helper_error", e.toString());
        }
        String out = Json.write(result);
        synchronized (OUT) {
            OUT.println(out);
            OUT.flush();
        }
    }

    /** One outbound handshake, configured as Elasticsearch configures its client SSLEngine. */
    private static void handshake(Map<String, Object> req, Map<String, Object> result) throws Exception {
        String ip = (String) req.get("ip");
        int port = ((Number) req.get("port")).intValue();
        String peerHost = (String) req.get("peer_host");
        String serverName = (String) req.get("server_name");
        String mode = (String) req.getOrDefault("verification_mode", "full");
        int timeout = ((Number) req.getOrDefault("timeout_ms", 10000)).intValue();
        boolean full = "full".equals(mode);

        SNIHostName sni = null;
        if (serverName != null) {
            try {
                sni = new SNIHostName(serverName);
            } catch (IllegalArgumentException e) {
                // SecurityNetty4Transport turns this into a ConnectTransportException before dialling.
                fail(result, e, List.of());
                result.put("stage", "server_name");
                return;
            }
        }
        Recorder recorder = new Recorder(trustManager(mode, req.get("trust")));
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(keyManagers((String) req.get("key"), (String) req.get("cert")), new TrustManager[] {recorder}, null);

        Socket raw = new Socket();
        try {
            raw.connect(new InetSocketAddress(ip, port), timeout);
        } catch (Exception e) {
            raw.close();
            fail(result, e, List.of());
            result.put("stage", "connect");
            return;
        }
        result.put("local", raw.getLocalAddress().getHostAddress() + ":" + raw.getLocalPort());
        raw.setSoTimeout(timeout);
        // With hostname verification the engine is created for the address host (never a
        // reverse lookup); without it, for no host at all.
        String host = full ? peerHost : ip;
        SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(raw, host, port, true);
        tls.setUseClientMode(true);
        SSLParameters params = tls.getSSLParameters();
        if (full) {
            params.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (sni != null) {
            params.setServerNames(List.of(sni));
        }
        tls.setSSLParameters(params);
        try {
            tls.startHandshake();
        } catch (Exception e) {
            tls.close();
            fail(result, e, recorder.chain);
            result.put("stage", "handshake");
            result.put("cipher", recorder.cipher);
            result.put("protocol", recorder.protocol);
            return;
        }
        SSLSession session = tls.getSession();
        result.put("connected", true);
        result.put("cipher", session.getCipherSuite());
        result.put("protocol", session.getProtocol());
        result.put("chain", pems(recorder.chain));
        if (!Boolean.TRUE.equals(req.get("relay"))) {
            tls.close();
            return;
        }
        tls.setSoTimeout(0);
        ServerSocket relay = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        relay.setSoTimeout(RELAY_ACCEPT_MS);
        result.put("relay_port", relay.getLocalPort());
        String sessionId = String.valueOf(result.get("id"));
        pool.execute(() -> relay(relay, tls, sessionId));
    }

    /** Plaintext between one loopback client and the TLS session, until either side ends. */
    private static void relay(ServerSocket listener, SSLSocket tls, String sessionId) {
        Socket local;
        try (ServerSocket l = listener) {
            local = l.accept();
        } catch (Exception e) {
            close(tls);
            return;
        }
        pool.execute(() -> {
            try {
                pump(local.getInputStream(), tls.getOutputStream());
            } catch (Exception e) {
                // the twin closed its side, or the session broke (the other pump records why)
            }
            close(tls);
        });
        Map<String, Object> ending = new LinkedHashMap<>();
        try {
            pump(tls.getInputStream(), local.getOutputStream());
            ending.put("exception", "");
            ending.put("message", "closed by peer");
        } catch (Exception e) {
            ending.put("exception", e.getClass().getName());
            ending.put("message", e.getMessage());
        }
        ENDINGS.put(sessionId, ending);  // before the close that the twin will notice
        close(local);
        close(tls);
    }

    private static void pump(InputStream in, OutputStream out) throws Exception {
        byte[] buf = new byte[16384];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
            out.flush();
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (Exception e) {
            // already closed
        }
    }

    private static void fail(Map<String, Object> result, Throwable e, List<X509Certificate> chain) throws Exception {
        result.put("connected", false);
        result.put("exception", e.getClass().getName());
        result.put("message", e.getMessage());
        List<Object> causes = new ArrayList<>();
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            causes.add(List.of(c.getClass().getName(), String.valueOf(c.getMessage())));
            if (causes.size() > 8) {
                break;
            }
        }
        result.put("causes", causes);
        result.put("chain", pems(chain));
    }

    private static List<Object> pems(List<X509Certificate> chain) throws Exception {
        List<Object> out = new ArrayList<>();
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        for (X509Certificate c : chain) {
            out.add("-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(c.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        }
        return out;
    }

    /** PKIX over the configured CAs; the JDK's cacerts when none; trust-all for mode none. */
    private static X509ExtendedTrustManager trustManager(String mode, Object trust) throws Exception {
        if ("none".equals(mode)) {
            return new TrustEverything();
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (trust == null) {
            tmf.init((KeyStore) null);
        } else {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            int i = 0;
            for (Object pem : (List<?>) trust) {
                Collection<? extends Certificate> certs =
                        cf.generateCertificates(new ByteArrayInputStream(((String) pem).getBytes(StandardCharsets.US_ASCII)));
                for (Certificate cert : certs) {
                    store.setCertificateEntry("ca-" + (i++), cert);
                }
            }
            tmf.init(store);
        }
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager) {
                return (X509ExtendedTrustManager) tm;
            }
        }
        throw new IllegalStateException("no X509ExtendedTrustManager");
    }

    private static KeyManager[] keyManagers(String keyPem, String certPem) throws Exception {
        if (keyPem == null || certPem == null) {
            return null;
        }
        byte[] der = Base64.getMimeDecoder().decode(keyPem
                .replace("-----BEGIN PRIVATE KEY-----", "")
                .replace("-----END PRIVATE KEY-----", ""));
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Certificate[] chain = cf.generateCertificates(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)))
                .toArray(new Certificate[0]);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "twin".toCharArray();
        store.setKeyEntry("key", key, password, chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        return kmf.getKeyManagers();
    }

    /** Delegates every decision; remembers the chain and session for the diagnostics. */
    private static final class Recorder extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        volatile List<X509Certificate> chain = List.of();
        volatile String cipher = "";
        volatile String protocol = "";

        Recorder(X509ExtendedTrustManager delegate) {
            this.delegate = delegate;
        }

        private void remember(X509Certificate[] presented, SSLSession session) {
            chain = List.of(presented);
            if (session != null) {
                cipher = session.getCipherSuite();
                protocol = session.getProtocol();
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, Socket socket) throws CertificateException {
            remember(c, ((SSLSocket) socket).getHandshakeSession());
            delegate.checkServerTrusted(c, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, SSLEngine engine) throws CertificateException {
            remember(c, engine.getHandshakeSession());
            delegate.checkServerTrusted(c, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType) throws CertificateException {
            remember(c, null);
            delegate.checkServerTrusted(c, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(c, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(c, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType) throws CertificateException {
            delegate.checkClientTrusted(c, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    /** verification_mode: none. */
    private static final class TrustEverything extends X509ExtendedTrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a) {}

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, Socket s) {}

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** Just enough JSON for the line protocol: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> parseObject(String text) {
            Json p = new Json(text);
            Object v = p.value();
            if (!(v instanceof Map)) {
                throw new IllegalArgumentException("not a JSON object");
            }
            return (Map<String, Object>) v;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') {
                return string();
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            return Double.parseDouble(s.substring(start, i));
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("expected " + c + " at " + i);
            }
            i++;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: b.append(e);
                }
            }
        }

        static String quote(String v) {
            if (v == null) {
                return "null";
            }
            StringBuilder b = new StringBuilder("\"");
            for (char c : v.toCharArray()) {
                switch (c) {
                    case '"': b.append("\\\""); break;
                    case '\\': b.append("\\\\"); break;
                    case '\n': b.append("\\n"); break;
                    case '\r': b.append("\\r"); break;
                    case '\t': b.append("\\t"); break;
                    default:
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                }
            }
            return b.append('"').toString();
        }

        static String write(Object v) {
            if (v == null) {
                return "null";
            }
            if (v instanceof String) {
                return quote((String) v);
            }
            if (v instanceof Boolean || v instanceof Number) {
                return v.toString();
            }
            if (v instanceof Map) {
                StringBuilder b = new StringBuilder("{");
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (b.length() > 1) {
                        b.append(',');
                    }
                    b.append(quote(String.valueOf(e.getKey()))).append(':').append(write(e.getValue()));
                }
                return b.append('}').toString();
            }
            if (v instanceof List) {
                StringBuilder b = new StringBuilder("[");
                for (Object o : (List<?>) v) {
                    if (b.length() > 1) {
                        b.append(',');
                    }
                    b.append(write(o));
                }
                return b.append(']').toString();
            }
            return quote(v.toString());
        }
    }
}
