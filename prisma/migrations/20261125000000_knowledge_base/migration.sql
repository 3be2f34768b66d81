-- The knowledge base of AI Ops: documents (runbooks, failed runs, incidents,
-- resolutions, plans, notes, answers) split into chunks with embeddings.

-- CreateTable
CREATE TABLE "knowledge_documents" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "environment" TEXT,
    "runbook" TEXT,
    "node" TEXT,
    "run_id" TEXT,
    "incident_id" UUID,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "weight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "knowledge_documents_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "knowledge_documents_kind_check" CHECK ("kind" IN ('runbook', 'failed_run', 'incident', 'resolution', 'plan', 'note', 'answer')),
    -- Feedback moves the weight within these bounds (ai/knowledge-store.ts).
    CONSTRAINT "knowledge_documents_weight_check" CHECK ("weight" >= 0.25 AND "weight" <= 4)
);

-- CreateTable
CREATE TABLE "knowledge_chunks" (
    "id" UUID NOT NULL,
    "document_id" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "embedding" vector(384) NOT NULL,
    "embedding_model" TEXT NOT NULL,

    CONSTRAINT "knowledge_chunks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "knowledge_documents_kind_created_at_idx" ON "knowledge_documents"("kind", "created_at");

-- CreateIndex
CREATE INDEX "knowledge_documents_environment_created_at_idx" ON "knowledge_documents"("environment", "created_at");

-- CreateIndex
CREATE INDEX "knowledge_documents_run_id_idx" ON "knowledge_documents"("run_id");

-- CreateIndex
CREATE INDEX "knowledge_documents_incident_id_idx" ON "knowledge_documents"("incident_id");

-- CreateIndex
CREATE UNIQUE INDEX "knowledge_chunks_document_id_ordinal_key" ON "knowledge_chunks"("document_id", "ordinal");

-- Approximate nearest neighbours by cosine distance. m and ef_construction
-- were tuned with `npm run bench:rag` (100,000 chunks): see bench/rag.ts.
CREATE INDEX "knowledge_chunks_embedding_idx" ON "knowledge_chunks" USING hnsw ("embedding" vector_cosine_ops) WITH (m = 16, ef_construction = 100);

-- AddForeignKey
ALTER TABLE "knowledge_documents" ADD CONSTRAINT "knowledge_documents_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "knowledge_documents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_document_id_fkey" FOREIGN KEY ("document_id") REFERENCES "knowledge_documents"("id") ON DELETE CASCADE ON UPDATE CASCADE;
