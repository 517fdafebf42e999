// Builds the frontend into the backend's static dir (src/jeeves/dashboard/static, gitignored),
// or into $JEEVES_DASHBOARD_STATIC_DIR when set (the image build uses that).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const outDir =
  process.env.JEEVES_DASHBOARD_STATIC_DIR ||
  fileURLToPath(new URL("../static", import.meta.url));

export default defineConfig({
  plugins: [react()],
  build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
});
