/** The IAM action each S3 operation needs, named in permission errors and in the prerequisites' checks. */
export const IAM_ACTION: Record<string, string> = {
  HeadBucket: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  Upload: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
};
